/**
 * The dashboard in a real browser (headless Chromium via playwright-core), against a real listener on a SQLite file,
 * a local server playing Slack, and events POSTed the way EventBridge sends them. One browser for the file; each test
 * gets a fresh context (its own cookies). Screenshots go to test/artifacts/ (git-ignored).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, PutBucketCorsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSecrets } from '../../src/config/secrets.js';
import { normaliseEvent } from '../../src/events/normalise.js';
import { ingestEvent } from '../../src/listener/core/ingest.js';
import { createS3Media } from '../../src/listener/http/dashboard/media.js';
import { chromiumAvailable, launchBrowser, openPage, screenshot } from '../helpers/browser.js';
import { builtCliAvailable, runCli, spawnCli } from '../helpers/cli.js';
import { makeClip } from '../helpers/ffmpeg.js';
import { SLACK_OK, startFakeSlack, waitFor } from '../helpers/fake-slack.js';
import { makeEvent, post, startTestListener, tempDir, TEST_KEY, type TestListener } from '../helpers/listener.js';
import { motoAvailable, startMoto } from '../helpers/moto.js';

const KEY = 'dashboard-key-0123456789';
const run = chromiumAvailable();
// For the playback tests (.ci/run installs it for `vidpipe local`); without it they skip, under CI they fail.
const ffmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
const moto = run && motoAvailable();
if (!ffmpeg) {
  const notice = 'ffmpeg not found: the HLS playback tests need it (apt-get install -y ffmpeg)';
  if (run && (process.env.CI === 'true' || process.env.CI === '1')) throw new Error(`CI: ${notice}`);
  console.warn(`[skip] ${notice}`);
}
const fast = { minIntervalMs: 50, retry: { baseMs: 100 }, pollMs: 50, timeoutMs: 1000, random: () => 0.5 };

/** Waits for hls.js to take the video, plays it and waits until more than one second has played. */
async function playsPastOneSecond(page: Page): Promise<void> {
  await page.evaluate("document.getElementById('video').play()");
  await expect.poll(() => page.evaluate("document.getElementById('video').currentTime"), { timeout: 15_000 }).toBeGreaterThan(1);
}

/** The sign-in form a page shows when it has no session. */
async function signInHere(page: Page, key: string): Promise<void> {
  await page.fill('#apiKey', key);
  await page.click('#signin button[type=submit]');
}

describe.skipIf(!run)('dashboard in a browser', () => {
  let browser: Browser;
  let l: TestListener;
  let slack: Awaited<ReturnType<typeof startFakeSlack>>;
  const tmp = tempDir('vidpipe-dash-');
  const secretsFile = path.join(tmp.dir, '.vidpipe', 'secrets.json');
  let t = Date.now() - 60_000;
  const at = () => (t += 1000);

  beforeAll(async () => {
    writeSecrets(secretsFile, { apiKeys: [KEY] });
    slack = await startFakeSlack();
    l = await startTestListener({
      auth: { header: 'x-api-key', apiKeys: [KEY], insecure: false, reload: { secretsFile, env: {}, intervalMs: 0 } },
      slackWebhookUrl: slack.url,
      notifier: fast,
      // No AWS region or credentials here: S3 outputs must show "not playable here", never a broken player.
      dashboard: { media: createS3Media({ env: {} }) },
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await l?.cleanup();
    await slack?.close();
    tmp.cleanup();
  });

  const send = async (body: Record<string, any>) => {
    const res = await post(l.url, body, { 'content-type': 'application/json', 'x-api-key': KEY });
    expect(res.status).toBe(200);
    return body;
  };

  async function signIn(page: Page, key = KEY) {
    await page.goto(`${l.url}/`);
    await page.locator('#signin').waitFor();
    await signInHere(page, key);
  }

  it('wrong or missing credentials show the sign-in page and no data', async () => {
    await send(makeEvent('progressing', { jobId: 'hidden-job', postId: 'hidden-post', timestamp: at() }));
    const { context, page } = await openPage(browser);
    await page.goto(`${l.url}/jobs/hidden-job`);
    await page.locator('#signin').waitFor();
    await signIn(page, 'not-the-key');
    await expect.poll(() => page.locator('#signin-msg').textContent()).toBe('credentials not accepted');
    const html = await page.content();
    expect(html).not.toContain('hidden-post');
    expect(html).not.toContain('hidden-job</');
    expect((await context.cookies()).map((c) => c.name)).not.toContain('vidpipe_session');
    // The API itself answers 401 to the browser without a session.
    expect(await page.evaluate(async () => (await fetch('/api/videos')).status)).toBe(401);
    await context.close();
  });

  it('signs in, shows a simulated job appear live and reach COMPLETE on its timeline', async () => {
    const { context, page, errors } = await openPage(browser);
    await signIn(page);
    await page.locator('#posts').waitFor();
    await page.locator('#live.on').waitFor();
    const jobId = `live-${Date.now()}`;
    // Appears without a reload: the listener pushes the commit over server-sent events.
    await send(makeEvent('progressing', { jobId, postId: 'post-live', timestamp: at() }));
    const card = page.locator(`li.card[data-job="${jobId}"]`);
    await card.waitFor();
    expect(await card.locator('.badge').textContent()).toBe('PROGRESSING');
    await page.click(`li.card[data-job="${jobId}"] a.title`);
    await page.locator('#timeline li').first().waitFor();
    expect(page.url()).toBe(`${l.url}/jobs/${jobId}`);

    await send(makeEvent('status-update', { jobId, postId: 'post-live', timestamp: at() }));
    await page.locator('#timeline li[data-status="STATUS_UPDATE"]').waitFor();
    expect(await page.locator('#timeline li[data-status="STATUS_UPDATE"]').textContent()).toContain('7%');
    await send(makeEvent('complete-hls-group', { jobId, postId: 'post-live', timestamp: at() }));
    await page.locator('#timeline li[data-status="COMPLETE"]').waitFor();
    await expect.poll(() => page.locator('#job-header .badge').textContent()).toBe('COMPLETE');
    // Outputs with dimensions; the S3 playlist is not playable without AWS credentials, and the page says why.
    expect(await page.locator('#outputs tbody tr').count()).toBe(3);
    expect(await page.locator('#outputs').textContent()).toContain('1280×720');
    expect(await page.locator('#player-state').textContent()).toMatch(/not playable here: .*AWS region/);
    // Raw JSON on demand, as text.
    await page.click('#timeline li[data-status="COMPLETE"] button[data-raw]');
    await page.locator('#timeline pre.raw').waitFor();
    expect(JSON.parse((await page.locator('#timeline pre.raw').textContent()) ?? '')).toMatchObject({ detail: { jobId, status: 'COMPLETE' } });
    await screenshot(page, 'dashboard-live-job.png');

    await page.click('header a[href="/"]');
    await expect.poll(() => card.locator('.badge').textContent()).toBe('COMPLETE');
    expect(await card.textContent()).toContain('Renditions 1280×720, 426×240');
    expect(await card.textContent()).toContain('Duration 3:00');
    await screenshot(page, 'dashboard-live-posts.png');
    expect(errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
    await context.close();
  });

  it('retries a failed notification from the notifications page', async () => {
    const jobId = `notify-${Date.now()}`;
    // Slack answers 404 (a permanent failure: the row ends `failed`), then 200 once it is retried.
    slack.answerWith({ status: 404, body: 'no_service' });
    await send(makeEvent('complete-file-group', { jobId, postId: 'post-notify', timestamp: at() }));
    // The fake Slack answered 404: the row is failed, with the error.
    await waitFor(async () => (await l.store.notificationsForJob(jobId))[0]?.state === 'failed', 10_000, 'the notification to fail');
    slack.answerWith(SLACK_OK);
    const { context, page } = await openPage(browser);
    await signIn(page);
    await page.locator('#posts').waitFor();
    await page.click('nav a[href="/notifications"]');
    const row = page.locator('#notifications tr[data-state="failed"]').filter({ hasText: jobId });
    await row.waitFor();
    expect(await row.textContent()).toMatch(/404/);
    const before = slack.requests.length;
    await row.locator('button[data-retry]').click();
    // Requeued, sent by the notifier, and the page follows without a reload.
    await page.locator('#notifications tr[data-state="sent"]').filter({ hasText: jobId }).waitFor();
    expect(slack.requests.length).toBe(before + 1);
    expect((await l.store.notificationsForJob(jobId))[0]).toMatchObject({ state: 'sent', attempts: 2 });
    await context.close();
  });

  it('shows event fields holding HTML or script as text, never as markup', async () => {
    const jobId = `xss-${Date.now()}`;
    const evil = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
    const body = makeEvent('complete-file-group', { jobId, postId: '<b>bold</b>', timestamp: at() });
    body.detail.userMetadata = { ...body.detail.userMetadata, note: evil };
    body.detail.warnings = [{ code: evil, count: 1 }];
    await send(body);
    const { context, page, errors } = await openPage(browser);
    await signIn(page);
    const card = page.locator(`li.card[data-job="${jobId}"]`);
    await card.waitFor();
    expect(await card.locator('a.title').textContent()).toBe('Post <b>bold</b>');
    await card.locator('a.title').click();
    await page.locator('#timeline li[data-status="COMPLETE"]').waitFor();
    expect(await page.locator('#job-header').textContent()).toContain(evil);
    expect(await page.locator('#timeline').textContent()).toContain(`Warning ${evil}`);
    await page.click('#timeline li[data-status="COMPLETE"] button[data-raw]');
    await page.locator('#timeline pre.raw').waitFor();
    expect(await page.locator('#timeline pre.raw').textContent()).toContain('<script>window.__pwned = 1</script>');
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.locator('main script, main b, main img[src="x"]').count()).toBe(0);
    expect(errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
    await context.close();
  });

  it('a job with no outputs and posts without a viewable thumbnail show clear states, at phone width', async () => {
    const running = `noout-${Date.now()}`;
    await send(makeEvent('progressing', { jobId: running, postId: 'post-noout', timestamp: at() }));
    const noThumb = `nothumb-${Date.now()}`;
    await send(makeEvent('complete-file-group', { jobId: noThumb, postId: 'post-nothumb', timestamp: at() }));
    const s3Thumb = `s3thumb-${Date.now()}`;
    await send(makeEvent('complete-frame-capture', { jobId: s3Thumb, postId: 'post-s3thumb', timestamp: at() }));
    const { context, page } = await openPage(browser, { width: 390, height: 844 });
    await signIn(page);
    await page.locator(`li.card[data-job="${s3Thumb}"]`).waitFor();
    expect(await page.locator(`li.card[data-job="${running}"] .thumb`).textContent()).toBe('Processing…');
    expect(await page.locator(`li.card[data-job="${noThumb}"] .thumb`).textContent()).toBe('No thumbnail');
    // The thumbnail exists on S3, but this listener cannot sign a URL for it: the image fails, the card says so.
    await expect.poll(() => page.locator(`li.card[data-job="${s3Thumb}"] .thumb`).textContent()).toBe('Thumbnail unavailable');
    // Nothing wider than the phone's screen.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.goto(`${l.url}/jobs/${running}`);
    await page.locator('#no-outputs').waitFor();
    expect(await page.locator('#player-state').textContent()).toMatch(/Nothing to play: no outputs yet: the job is PROGRESSING/);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.goto(`${l.url}/jobs/${s3Thumb}`);
    await page.locator('#thumb-state').waitFor();
    expect(await page.locator('#thumb-state').textContent()).toMatch(/AWS region/);
    await page.goto(`${l.url}/jobs/no-such-job`);
    expect(await page.locator('main .box').textContent()).toMatch(/No such job/);
    await context.close();
  });

  // Local mode (outputs on this machine): a real HLS rendition and a thumbnail made by ffmpeg, played by hls.js.
  it.skipIf(!ffmpeg)('plays one second of a real HLS output and shows its thumbnail', async () => {
    const out = path.join(tmp.dir, 'hls');
    mkdirSync(out, { recursive: true });
    const src = ['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25'];
    execFileSync('ffmpeg', ['-loglevel', 'error', ...src, '-t', '4', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '25', '-f', 'hls', '-hls_time', '1', '-hls_playlist_type', 'vod', '-hls_segment_filename', path.join(out, 'mainv1_%03d.ts'), path.join(out, 'mainv1.m3u8')]);
    execFileSync('ffmpeg', ['-loglevel', 'error', ...src, '-frames:v', '1', path.join(out, 'thumb.0000001.jpg')]);
    // The multivariant playlist, as MediaConvert writes it beside its renditions.
    writeFileSync(path.join(out, 'main.m3u8'), '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\nmainv1.m3u8\n');
    const jobId = `local-${Date.now()}`;
    const body = makeEvent('complete-hls-group', { jobId, postId: '42', timestamp: at() });
    const group = body.detail.outputGroupDetails[0];
    group.playlistFilePaths = [path.join(out, 'main.m3u8')];
    group.outputDetails = [{ outputFilePaths: [path.join(out, 'mainv1.m3u8')], durationInMs: 4000, videoDetails: { widthInPx: 640, heightInPx: 360 } }];
    body.detail.outputGroupDetails.push({ type: 'FILE_GROUP', outputDetails: [{ outputFilePaths: [path.join(out, 'thumb.0000001.jpg')], durationInMs: 4000, videoDetails: { widthInPx: 640, heightInPx: 360 } }] });
    // EventBridge carries only s3:// outputs: a local runner records its events through the core, as here.
    await ingestEvent(normaliseEvent(body, { processedSources: [] }), { store: l.store }, JSON.stringify(body));

    const { context, page, errors } = await openPage(browser);
    await signIn(page);
    const card = page.locator(`li.card[data-job="${jobId}"]`);
    await card.waitFor();
    await expect.poll(() => card.locator('img.thumb').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(640);
    await screenshot(page, 'dashboard-posts.png');
    await card.locator('a.title').click();
    await page.locator('#video[data-ready="hls.js"]').waitFor();
    await playsPastOneSecond(page);
    expect(await page.locator('#outputs').textContent()).toMatch(/mainv1\.m3u8.*\d+ B/s);
    await page.evaluate("document.getElementById('video').pause()");
    await screenshot(page, 'dashboard-job.png');
    expect(errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
    await context.close();
  });

  // S3 through presigned URLs, against moto: the listener proxies the playlists, hls.js fetches the presigned segments
  // from the bucket (which needs a CORS rule, as a real one would). Then the segments go away (as after an expired
  // link): the player says so and offers to load again, instead of a silent black box.
  it.skipIf(!ffmpeg || !moto)('plays HLS from S3 via presigned URLs, and shows a clear state when the segments cannot be fetched', async () => {
    const m = await startMoto();
    Object.assign(process.env, m.env);
    const s3l = await startTestListener({ dashboard: { media: createS3Media({ env: process.env }) } });
    try {
      const out = path.join(tmp.dir, 's3-hls');
      mkdirSync(out, { recursive: true });
      execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-t', '3', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '25', '-f', 'hls', '-hls_time', '1', '-hls_playlist_type', 'vod', '-hls_segment_filename', path.join(out, 'mainv1_%03d.ts'), path.join(out, 'mainv1.m3u8')]);
      writeFileSync(path.join(out, 'main.m3u8'), '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\nmainv1.m3u8\n');
      const s3 = new S3Client({ region: 'us-east-1', endpoint: m.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      await s3.send(new CreateBucketCommand({ Bucket: 'dash-out' }));
      await s3.send(new PutBucketCorsCommand({ Bucket: 'dash-out', CORSConfiguration: { CORSRules: [{ AllowedMethods: ['GET'], AllowedOrigins: [s3l.url], AllowedHeaders: ['*'] }] } }));
      const files = readdirSync(out);
      for (const f of files) await s3.send(new PutObjectCommand({ Bucket: 'dash-out', Key: `posts/7/hls/${f}`, Body: readFileSync(path.join(out, f)) }));
      const jobId = `s3play-${Date.now()}`;
      const body = makeEvent('complete-hls-group', { jobId, postId: '7', timestamp: at() });
      const group = body.detail.outputGroupDetails[0];
      group.playlistFilePaths = ['s3://dash-out/posts/7/hls/main.m3u8'];
      group.outputDetails = [{ outputFilePaths: ['s3://dash-out/posts/7/hls/mainv1.m3u8'], durationInMs: 3000, videoDetails: { widthInPx: 640, heightInPx: 360 } }];
      expect((await post(s3l.url, body)).status).toBe(200);

      const { context, page, errors } = await openPage(browser);
      await page.goto(`${s3l.url}/jobs/${jobId}`);
      await signInHere(page, TEST_KEY);
      await page.locator('#video[data-ready="hls.js"]').waitFor();
      expect(await page.locator('#player-state').textContent()).toContain('S3 (short-lived signed links)');
      await playsPastOneSecond(page);
      expect(errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);

      for (const f of files.filter((x) => x.endsWith('.ts'))) await s3.send(new DeleteObjectCommand({ Bucket: 'dash-out', Key: `posts/7/hls/${f}` }));
      s3.destroy();
      await page.reload();
      await page.locator('#player-reload').waitFor({ timeout: 15_000 });
      expect(await page.locator('#player-state').textContent()).toMatch(/could not be fetched \(fragLoadError, HTTP 404\): its signed links may have expired/);
      await context.close();
    } finally {
      await s3l.cleanup();
      await m.stop();
    }
  });

  // The whole local loop as a user runs it: the built `vidpipe local`, `upload --local --wait`, then the dashboard the
  // local listener serves plays the HLS ladder ffmpeg made, from the local storage folder.
  it.skipIf(!ffmpeg || !builtCliAvailable())('vidpipe local: the uploaded clip plays on its job page', async () => {
    const dir = tempDir('vidpipe-dash-local-');
    const local = spawnCli(['--json', 'local', '--port', '0', '--preset', 'ultrafast', '--status-interval', '0.3'], { cwd: dir.dir });
    try {
      await local.waitFor(/\}\s*$/, { stream: 'stdout', timeoutMs: 20_000 });
      const rt = JSON.parse(local.stdout()) as { listenerUrl: string };
      const clip = makeClip(dir.dir, { seconds: 3 });
      const up = await runCli(['--json', 'upload', clip, '--post', 'local-post', '--local', '--wait', '--template', 'hls'], { cwd: dir.dir, timeoutMs: 60_000 });
      expect(up.code).toBe(0);
      const jobId = (JSON.parse(up.stdout) as { uploads: { jobs: { id: string }[] }[] }).uploads[0]!.jobs[0]!.id;
      const key = (JSON.parse(readFileSync(path.join(dir.dir, '.vidpipe', 'secrets.json'), 'utf8')) as { apiKeys: string[] }).apiKeys[0] as string;

      const { context, page, errors } = await openPage(browser);
      await page.goto(`${rt.listenerUrl}/jobs/${jobId}`);
      await signInHere(page, key);
      await page.locator('#video[data-ready="hls.js"]').waitFor();
      expect(await page.locator('#player-state').textContent()).toContain('the local output directory');
      await playsPastOneSecond(page);
      expect(await page.locator('#outputs tbody tr').count()).toBeGreaterThan(2);
      expect(errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
      await context.close();
    } finally {
      local.child.kill('SIGTERM');
      await local.exited;
      dir.cleanup();
    }
  });

  it('a session cookie from before a key rotation stops working', async () => {
    const { context, page } = await openPage(browser);
    await signIn(page);
    await page.locator('#posts').waitFor();
    const cookie = (await context.cookies()).find((c) => c.name === 'vidpipe_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: false });
    expect(cookie?.expires).toBeGreaterThan(Date.now() / 1000 + 11 * 3600);
    // `vidpipe setup --rotate-key` writes a new key (the old one kept for EventBridge): the listener follows the file.
    writeSecrets(secretsFile, { apiKeys: ['rotated-key-0123456789', KEY] });
    await page.click('nav a[href="/notifications"]');
    await page.locator('#signin').waitFor();
    expect(await page.locator('#signin-msg').textContent()).toMatch(/session ended/);
    expect(await page.evaluate(async () => (await fetch('/api/videos')).status)).toBe(401);
    // Signing in again works, with either key.
    await signIn(page, 'rotated-key-0123456789');
    await page.locator('#posts').waitFor();
    await context.close();
  });
});

// Kept for the README: the test's screenshots, copied to docs/ when DASHBOARD_SCREENSHOTS=1.
afterAll(() => {
  if (process.env.DASHBOARD_SCREENSHOTS !== '1') return;
  const docs = path.join(import.meta.dirname, '..', '..', 'docs');
  mkdirSync(docs, { recursive: true });
  for (const name of ['dashboard-posts.png', 'dashboard-job.png']) {
    const from = path.join(import.meta.dirname, '..', 'artifacts', name);
    if (existsSync(from)) copyFileSync(from, path.join(docs, name));
  }
});
