/**
 * simulate-complete against a REAL `vidpipe listen`: in-process (startListener, real HTTP, real SQLite) and, for the
 * no-flags path a new user takes, both verbs as child processes of the built CLI in a fresh directory.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_STATUSES } from '../../src/events/types.js';
import { simulate, type SimulateOptions } from '../../src/simulate/simulate.js';
import { seededBuildEnv } from '../helpers/build-env.js';
import { get, LISTENER_PATH, startTestListener, tempDir, TEST_KEY } from '../helpers/listener.js';
import { freePort } from '../helpers/moto.js';
import { runCli, spawnCli } from '../helpers/cli.js';

type TestListener = Awaited<ReturnType<typeof startTestListener>>;

describe('simulate-complete → vidpipe listen', () => {
  let listener: TestListener;
  let endpoint: string;
  const dir = tempDir('vidpipe-sim-listen-');

  beforeAll(async () => {
    listener = await startTestListener();
    endpoint = `${listener.url}${LISTENER_PATH}`;
  });
  afterAll(async () => {
    await listener?.cleanup();
    dir.cleanup();
  });

  it.each(JOB_STATUSES)('the listener accepts a simulated %s event', async (status) => {
    const jobId = `1700000000000-${status.slice(0, 6).toLowerCase().replace(/_/g, 'x').padEnd(6, 'z')}`;
    const run = await runCli(['simulate-complete', '--to', endpoint, '--status', status, '--job-id', jobId], { cwd: dir.dir, env: { VIDPIPE_API_KEY: TEST_KEY } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`${jobId}  → 200 {"status":"processed"`);
  });

  it('a wrong key: exit 5 with the listener\'s 401 shown', async () => {
    const run = await runCli(['simulate-complete', '--to', endpoint], { cwd: dir.dir, env: { VIDPIPE_API_KEY: 'vp_not-the-key' } });
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/answered 401 .*"error":"unauthorized"/);
    expect(run.stderr).not.toContain('vp_not-the-key');
  });

  it('--count against the listener: every event processed, summary by outcome', async () => {
    const run = await runCli(['simulate-complete', '--to', endpoint, '--count', '60', '--concurrency', '6', '--json'], { cwd: dir.dir, env: { VIDPIPE_API_KEY: TEST_KEY } });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ jobs: 60, events: 60, byHttpStatus: { 200: 60 }, byOutcome: { processed: 60 } });
  });
});

describe('--sequence --duplicate --shuffle ends where --sequence does', () => {
  const base = (configDir: string): SimulateOptions => ({
    status: 'COMPLETE',
    jobId: '1700000000000-seqtst',
    postId: 'post-9',
    sequence: true,
    duplicate: false,
    shuffle: false,
    count: 1,
    concurrency: 1,
    print: false,
    via: 'http',
    aws: {},
    configPath: path.join(configDir, 'vidpipe.config.json'),
  });

  it.each(['COMPLETE', 'ERROR'] as const)('%s: same final job state (GET /api/videos/:jobId) on two fresh listeners', async (status) => {
    const plain = await startTestListener();
    const messy = await startTestListener();
    const dir = tempDir();
    try {
      const env = { VIDPIPE_API_KEY: TEST_KEY };
      // The same seed gives the same events (same ids and timestamps); only duplication and order differ.
      const a = await simulate({ ...base(dir.dir), status, to: new URL(`${plain.url}${LISTENER_PATH}`) }, { env: seededBuildEnv(11), processEnv: env });
      const b = await simulate(
        { ...base(dir.dir), status, duplicate: true, shuffle: true, to: new URL(`${messy.url}${LISTENER_PATH}`) },
        { env: seededBuildEnv(11), processEnv: env },
      );
      if (a.mode !== 'http' || b.mode !== 'http') throw new Error('expected http results');
      const order = (r: typeof a) => r.answers.map((x) => x.eventId);
      expect(order(b)).toHaveLength(order(a).length * 2);
      expect(order(b).slice(0, order(a).length)).not.toEqual(order(a));
      expect(b.answers.filter((x) => JSON.parse(x.body).status === 'duplicate')).toHaveLength(order(a).length);

      const stateA = await get(plain.url, '/api/videos/1700000000000-seqtst');
      const stateB = await get(messy.url, '/api/videos/1700000000000-seqtst');
      expect(stateA.status).toBe(200);
      expect(stateB.json.video).toEqual(stateA.json.video);
      expect(stateA.json.video).toMatchObject({ status, postId: 'post-9' });
      if (status === 'COMPLETE') expect(stateA.json.video.outputs.length).toBeGreaterThan(0);
      else expect(stateA.json.video).toMatchObject({ errorCode: '1010' });
    } finally {
      await plain.cleanup();
      await messy.cleanup();
      dir.cleanup();
    }
  });
});

describe('a new user: `vidpipe listen` and `vidpipe simulate-complete` in a fresh directory, no flags', () => {
  it('work together, and GET /api/videos/<jobId> shows the job COMPLETE with its outputs', async () => {
    const dir = tempDir('vidpipe-fresh-');
    // PORT (read by both verbs) keeps the test off a port another suite may hold; no flag, no config, no key given.
    const port = String(await freePort());
    const listen = spawnCli(['listen'], { cwd: dir.dir, env: { PORT: port } });
    try {
      for (const end = Date.now() + 20_000; !listen.stderr().includes('listening on'); ) {
        if (listen.child.exitCode !== null || Date.now() > end) throw new Error(`vidpipe listen did not start:\n${listen.stderr()}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      const run = await runCli(['simulate-complete'], { cwd: dir.dir, env: { PORT: port } });
      expect(run.code, run.stderr).toBe(0);
      const jobId = /^COMPLETE\s+(\S+)\s+→ 200/.exec(run.stdout)?.[1];
      expect(jobId).toMatch(/^\d{13}-[a-z0-9]{6}$/);
      expect(run.stderr).toContain(`GET http://127.0.0.1:${port}/api/videos/${jobId} (with the same x-api-key header)`);

      const key = (JSON.parse(readFileSync(path.join(dir.dir, '.vidpipe', 'secrets.json'), 'utf8')) as { apiKeys: string[] }).apiKeys[0]!;
      const res = await fetch(`http://127.0.0.1:${port}/api/videos/${jobId}`, { headers: { 'x-api-key': key } });
      expect(res.status).toBe(200);
      const { video } = (await res.json()) as { video: { status: string; outputs: { uri: string }[] } };
      expect(video.status).toBe('COMPLETE');
      expect(video.outputs.map((o) => o.uri)).toEqual(
        expect.arrayContaining([
          `s3://vidpipe-example-output/simulated/${jobId}/mp4/sample.mp4`,
          `s3://vidpipe-example-output/simulated/${jobId}/hls/sample.m3u8`,
          `s3://vidpipe-example-output/simulated/${jobId}/thumbnails/sample.0000006.jpg`,
        ]),
      );
    } finally {
      listen.child.kill('SIGINT');
      await Promise.race([listen.exited, new Promise((r) => setTimeout(r, 5000))]);
      if (listen.child.exitCode === null) listen.child.kill('SIGKILL');
      dir.cleanup();
    }
  });
});
