/**
 * The dashboard's HTTP side without a browser: the OpenAPI document (validated, every read route listed), the session
 * cookie's attributes and limits (never the EventBridge route, writes only with the dashboard's header), security
 * headers, the first page's weight, --no-dashboard, and S3 playback through presigned URLs against moto.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseEvent } from '../../src/events/normalise.js';
import { ingestEvent } from '../../src/listener/core/ingest.js';
import { createS3Media } from '../../src/listener/http/dashboard/media.js';
import { EVENTBRIDGE_HEADERS, makeEvent, post, startTestListener, tempDir, TEST_KEY, type TestListener } from '../helpers/listener.js';
import { motoAvailable, startMoto, type Moto } from '../helpers/moto.js';

const READ_ROUTES = [
  '/api/videos',
  '/api/videos/{jobId}',
  '/api/posts/{id}',
  '/api/notifications',
  '/api/events/{eventId}',
  '/api/videos/{jobId}/timeline',
  '/api/videos/{jobId}/media',
  '/api/videos/{jobId}/thumbnail',
  '/api/stream',
  '/api/session',
  '/healthz',
  '/readyz',
];

async function signIn(url: string, body: Record<string, string> = { apiKey: TEST_KEY }, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/dashboard/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const setCookie = res.headers.get('set-cookie') ?? '';
  return { status: res.status, setCookie, cookie: setCookie.split(';')[0] ?? '' };
}

describe('dashboard HTTP', () => {
  let l: TestListener;
  beforeAll(async () => {
    l = await startTestListener({
      auth: { header: 'x-api-key', apiKeys: [TEST_KEY], basic: 'viewer:s3cret', insecure: false },
      dashboard: { media: createS3Media({ env: {} }) },
    });
  });
  afterAll(async () => l.cleanup());

  it('publishes a valid OpenAPI document listing every read route, at /openapi.json and /docs', async () => {
    const res = await fetch(`${l.url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, Record<string, { security?: unknown[] }>>; openapi: string };
    expect(doc.openapi).toMatch(/^3\./);
    await SwaggerParser.validate(structuredClone(doc) as never);
    for (const p of READ_ROUTES) expect(doc.paths[p]?.get, `GET ${p}`).toBeDefined();
    // The EventBridge route is documented with header auth only (no cookie).
    expect(doc.paths['/aws/listener/eventbridge/video']?.post?.security).toEqual([{ apiKey: [] }, { basic: [] }]);
    expect(doc.paths['/healthz']?.get?.security).toEqual([]);
    // The pages and assets are not API.
    expect(Object.keys(doc.paths).filter((p) => p === '/' || p.startsWith('/ui/') || p.startsWith('/jobs'))).toEqual([]);
    const docs = await fetch(`${l.url}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });

  it('signs in with the API key or Basic, sets an HttpOnly SameSite=Strict expiring cookie, Secure behind HTTPS', async () => {
    const byKey = await signIn(l.url);
    expect(byKey.status).toBe(200);
    expect(byKey.setCookie).toMatch(/^vidpipe_session=v1\.[^;]+; Path=\/; Max-Age=43\d{3}; HttpOnly; SameSite=Strict$/);
    const byBasic = await signIn(l.url, { user: 'viewer', password: 's3cret' }, { 'x-forwarded-proto': 'https' });
    expect(byBasic.status).toBe(200);
    expect(byBasic.setCookie).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
    const wrong = await signIn(l.url, { apiKey: 'nope' });
    expect(wrong).toMatchObject({ status: 401, setCookie: '' });
    expect((await signIn(l.url, { user: 'viewer', password: 'nope' })).status).toBe(401);
    expect((await signIn(l.url, {})).status).toBe(401);

    const read = await fetch(`${l.url}/api/videos`, { headers: { cookie: byKey.cookie } });
    expect(read.status).toBe(200);
    // A forged or altered cookie is refused.
    const forged = byKey.cookie.replace(/v1\.\d+/, `v1.${Date.now() + 10 ** 9}`);
    expect((await fetch(`${l.url}/api/videos`, { headers: { cookie: forged } })).status).toBe(401);
    // The dashboard's fetch gets a 401 without a Basic challenge (the browser would pop its own dialog).
    const noChallenge = await fetch(`${l.url}/api/videos`, { headers: { 'x-vidpipe-client': 'dashboard' } });
    expect(noChallenge.status).toBe(401);
    expect(noChallenge.headers.get('www-authenticate')).toBeNull();
  });

  it('never lets a cookie authorize the EventBridge POST, nor a write without the dashboard header', async () => {
    const { cookie } = await signIn(l.url);
    const body = makeEvent('progressing', { jobId: 'cookie-post' });
    const res = await post(l.url, body, { ...EVENTBRIDGE_HEADERS, cookie, 'x-vidpipe-client': 'dashboard' });
    expect(res.status).toBe(401);
    expect(await l.store.getJob('cookie-post')).toBeUndefined();

    const retry = (headers: Record<string, string>) =>
      fetch(`${l.url}/api/notifications/retry`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ ids: [1] }) });
    // A cross-site form cannot add the header: the cookie alone does not authorize the write.
    expect((await retry({ cookie })).status).toBe(401);
    expect((await retry({ cookie, 'x-vidpipe-client': 'dashboard' })).status).toBe(200);
    expect((await retry({ 'x-api-key': TEST_KEY })).status).toBe(200);
  });

  it('serves the pages with a strict CSP and no-sniff, no inline script or style, and a light first page', async () => {
    const res = await fetch(`${l.url}/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|style=/);
    // Everything the posts page loads before any data, as sent (no compression): the player and hls.js load only on
    // a job page with something to play.
    let total = Buffer.byteLength(html);
    for (const asset of ['/ui/app.js', '/ui/app.css']) {
      const a = await fetch(`${l.url}${asset}`);
      expect(a.status).toBe(200);
      total += (await a.arrayBuffer()).byteLength;
    }
    expect(total).toBeLessThan(200 * 1024);
    // Bodies are read to the end: a response left half-read keeps its connection busy and app.close() waiting.
    const hls = await fetch(`${l.url}/ui/vendor/hls.light.min.js`);
    expect([hls.status, (await hls.arrayBuffer()).byteLength > 100_000]).toEqual([200, true]);
    const other = await fetch(`${l.url}/ui/vendor/hls.js`);
    expect([other.status, await other.text()]).toEqual([404, expect.any(String)]);
  });

  it('raw event bodies and the timeline need credentials, and 404 for unknown ids', async () => {
    const body = makeEvent('status-update', { jobId: 'raw-1', timestamp: Date.now() });
    await post(l.url, body);
    expect((await fetch(`${l.url}/api/events/${body.id}`)).status).toBe(401);
    const raw = await fetch(`${l.url}/api/events/${body.id}`, { headers: { 'x-api-key': TEST_KEY } });
    expect(await raw.json()).toEqual(body);
    expect((await fetch(`${l.url}/api/events/nope`, { headers: { 'x-api-key': TEST_KEY } })).status).toBe(404);
    const tl = (await (await fetch(`${l.url}/api/videos/raw-1/timeline`, { headers: { 'x-api-key': TEST_KEY } })).json()) as any;
    expect(tl.events).toMatchObject([{ eventId: body.id, status: 'STATUS_UPDATE', percent: 7, phase: 'TRANSCODING', anomaly: null }]);
  });

  it('is off with dashboard: false (listen --no-dashboard): no pages, no sign-in, the JSON API unchanged', async () => {
    const off = await startTestListener({ dashboard: false });
    try {
      expect((await fetch(`${off.url}/`)).status).toBe(401);
      expect((await fetch(`${off.url}/`, { headers: { 'x-api-key': TEST_KEY } })).status).toBe(404);
      expect((await fetch(`${off.url}/dashboard/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
      expect((await fetch(`${off.url}/api/videos`, { headers: { 'x-api-key': TEST_KEY } })).status).toBe(200);
    } finally {
      await off.cleanup();
    }
  });
});

describe('local outputs', () => {
  let l: TestListener;
  const tmp = tempDir('vidpipe-local-out-');
  beforeAll(async () => {
    l = await startTestListener({ dashboard: { media: createS3Media({ env: {} }) } });
  });
  afterAll(async () => {
    await l.cleanup();
    tmp.cleanup();
  });

  it('serves files under the job’s output directory only', async () => {
    const out = path.join(tmp.dir, 'job-out');
    mkdirSync(out);
    writeFileSync(path.join(out, 'main.m3u8'), '#EXTM3U\n');
    writeFileSync(path.join(out, 'seg0.ts'), 'x');
    writeFileSync(path.join(tmp.dir, 'secret.ts'), 'secret');
    writeFileSync(path.join(out, 'thumb.0000001.jpg'), 'jpeg');
    const body = makeEvent('complete-hls-group', { jobId: 'local-1', timestamp: Date.now() });
    body.detail.outputGroupDetails[0].playlistFilePaths = [path.join(out, 'main.m3u8')];
    body.detail.outputGroupDetails.push({ type: 'FILE_GROUP', outputDetails: [{ outputFilePaths: [path.join(out, 'thumb.0000001.jpg')], durationInMs: 1000 }] });
    // EventBridge only carries s3:// outputs (the route's schema): a local runner records its events through the core.
    await ingestEvent(normaliseEvent(body, { processedSources: [] }), { store: l.store }, JSON.stringify(body));
    const media = (await (await fetch(`${l.url}/api/videos/local-1/media`, { headers: { 'x-api-key': TEST_KEY } })).json()) as any;
    expect(media.player).toMatchObject({ state: 'playable', kind: 'hls', source: 'file' });
    const ok = await fetch(`${l.url}${media.player.url}`, { headers: { 'x-api-key': TEST_KEY } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('#EXTM3U\n');
    const thumb = await fetch(`${l.url}/api/videos/local-1/thumbnail`, { headers: { 'x-api-key': TEST_KEY } });
    expect([thumb.status, thumb.headers.get('content-type'), await thumb.text()]).toEqual([200, 'image/jpeg', 'jpeg']);
    const seg = await fetch(`${l.url}/api/media/local-1/file${out}/seg0.ts`, { headers: { 'x-api-key': TEST_KEY } });
    expect(seg.status).toBe(200);
    for (const p of [`${tmp.dir}/secret.ts`, `${out}/../secret.ts`, `${out}/%2e%2e/secret.ts`, '/etc/passwd'])
      expect((await fetch(`${l.url}/api/media/local-1/file${p}`, { headers: { 'x-api-key': TEST_KEY } })).status, p).toBe(404);
  });
});

describe('vidpipe local folder storage', () => {
  const tmp = tempDir('vidpipe-local-storage-');
  let l: TestListener;
  beforeAll(async () => {
    l = await startTestListener({ dashboard: { media: createS3Media({ env: {} }), storageDir: tmp.dir } });
  });
  afterAll(async () => {
    await l.cleanup();
    tmp.cleanup();
  });

  it('reads s3://bucket/key outputs from <storage>/<bucket>/<key> and plays them, never outside the folder', async () => {
    mkdirSync(path.join(tmp.dir, 'out', 'hls'), { recursive: true });
    writeFileSync(path.join(tmp.dir, 'out', 'hls', 'main.m3u8'), '#EXTM3U\n');
    writeFileSync(path.join(tmp.dir, 'out', 'hls', 'main.0000000.jpg'), 'jpeg');
    const body = makeEvent('complete-hls-group', { jobId: 'local-store-1', timestamp: Date.now() });
    body.detail.outputGroupDetails[0].playlistFilePaths = ['s3://out/hls/main.m3u8'];
    body.detail.outputGroupDetails.push({ type: 'FILE_GROUP', outputDetails: [{ outputFilePaths: ['s3://out/hls/main.0000000.jpg'], durationInMs: 1000 }] });
    expect((await post(l.url, body)).status).toBe(200);
    const auth = { 'x-api-key': TEST_KEY };
    const media = (await (await fetch(`${l.url}/api/videos/local-store-1/media`, { headers: auth })).json()) as any;
    expect(media.player).toMatchObject({ state: 'playable', kind: 'hls', source: 'file' });
    expect(media.outputs.find((o: any) => o.uri === 's3://out/hls/main.m3u8').size).toBe(8);
    expect(await (await fetch(`${l.url}${media.player.url}`, { headers: auth })).text()).toBe('#EXTM3U\n');
    expect(await (await fetch(`${l.url}/api/videos/local-store-1/thumbnail`, { headers: auth })).text()).toBe('jpeg');
    // A key that climbs out of the storage folder is no location at all.
    const evil = makeEvent('complete-file-group', { jobId: 'local-store-2', timestamp: Date.now() });
    evil.detail.outputGroupDetails[0].outputDetails[0].outputFilePaths = ['s3://out/../../../../etc/passwd.mp4'];
    const res = await post(l.url, evil);
    if (res.status === 200) {
      const m2 = (await (await fetch(`${l.url}/api/videos/local-store-2/media`, { headers: auth })).json()) as any;
      expect(m2.player.state).toBe('unavailable');
    }
  });
});

describe.skipIf(!motoAvailable())('S3 outputs through presigned URLs (moto)', () => {
  let moto: Moto;
  let l: TestListener;
  beforeAll(async () => {
    moto = await startMoto();
    const s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'out-bucket' }));
    const put = (Key: string, Body: string) => s3.send(new PutObjectCommand({ Bucket: 'out-bucket', Key, Body }));
    await put('hls/main.m3u8', '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=1280x720\nmainv1.m3u8\n');
    await put('hls/mainv1.m3u8', '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:2.0,\nmainv1_00001.ts\n#EXT-X-ENDLIST\n');
    await put('hls/mainv1_00001.ts', 'segment-bytes');
    await put('thumbs/t.0000001.jpg', 'jpeg-bytes');
    s3.destroy();
    // The SDK's credential chain reads the process environment.
    Object.assign(process.env, moto.env);
    l = await startTestListener({ dashboard: { media: createS3Media({ env: process.env }) } });
  });
  afterAll(async () => {
    await l?.cleanup();
    await moto?.stop();
  });

  it('proxies playlists with presigned segment URLs that S3 serves, and redirects thumbnails to a presigned URL', async () => {
    const body = makeEvent('complete-hls-group', { jobId: 's3-1', timestamp: Date.now() });
    const group = body.detail.outputGroupDetails[0];
    group.playlistFilePaths = ['s3://out-bucket/hls/main.m3u8'];
    group.outputDetails = [{ outputFilePaths: ['s3://out-bucket/hls/mainv1.m3u8'], durationInMs: 2000, videoDetails: { widthInPx: 1280, heightInPx: 720 } }];
    body.detail.outputGroupDetails.push({ type: 'FILE_GROUP', outputDetails: [{ outputFilePaths: ['s3://out-bucket/thumbs/t.0000001.jpg'], durationInMs: 2000, videoDetails: { widthInPx: 640, heightInPx: 360 } }] });
    expect((await post(l.url, body)).status).toBe(200);
    const auth = { 'x-api-key': TEST_KEY };
    const media = (await (await fetch(`${l.url}/api/videos/s3-1/media`, { headers: auth })).json()) as any;
    expect(media.player.reason).toBeUndefined();
    expect(media.player).toMatchObject({ state: 'playable', kind: 'hls', source: 's3' });
    expect(media.outputs.find((o: any) => o.uri.endsWith('mainv1.m3u8')).size).toBeGreaterThan(0);

    const master = await (await fetch(`${l.url}${media.player.url}`, { headers: auth })).text();
    const child = master.split('\n').find((x) => x.includes('/playlist?uri='));
    expect(child).toBe(`/api/media/s3-1/playlist?uri=${encodeURIComponent('s3://out-bucket/hls/mainv1.m3u8')}`);
    const variant = await (await fetch(`${l.url}${child}`, { headers: auth })).text();
    const segment = variant.split('\n').find((x) => x.includes('mainv1_00001.ts')) ?? '';
    expect(segment).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/out-bucket\/hls\/mainv1_00001\.ts\?.*X-Amz-Signature=/);
    expect(segment).toMatch(/X-Amz-Expires=900/);
    expect(variant).toMatch(/#EXT-X-MAP:URI="http:[^"]+init\.mp4\?[^"]*X-Amz-Signature=/);
    expect(await (await fetch(segment)).text()).toBe('segment-bytes');

    const thumb = await fetch(`${l.url}/api/videos/s3-1/thumbnail`, { headers: auth, redirect: 'manual' });
    expect(thumb.status).toBe(302);
    expect(await (await fetch(thumb.headers.get('location') as string)).text()).toBe('jpeg-bytes');
    // Only the job's own output directories: another key in the bucket is refused.
    const other = await fetch(`${l.url}/api/media/s3-1/playlist?uri=${encodeURIComponent('s3://out-bucket/other/x.m3u8')}`, { headers: auth });
    expect(other.status).toBe(404);
    // The CSP lets the page load from the S3 endpoint in use.
    const page = await fetch(`${l.url}/`);
    await page.text();
    expect(page.headers.get('content-security-policy')).toContain(moto.endpoint);
  });
});
