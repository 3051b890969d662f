/**
 * `listen --forward-to`: every new event relayed to a real local HTTP server playing the user's app, on both stores.
 * The app can fail for a while, hang, refuse connections, or answer a permanent 4xx.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Forward } from '../../src/listener/core/store-port.js';
import { builtCliAvailable, runCli, spawnListen } from '../helpers/cli.js';
import { startFakeApp } from '../helpers/fake-app.js';
import { waitFor } from '../helpers/fake-slack.js';
import { makeEvent, post, startTestListener, tempDir, TEST_KEY, type TestListener } from '../helpers/listener.js';
import { testPostgres } from '../helpers/postgres.js';

const pg = await testPostgres();
const tmp = tempDir('vidpipe-forward-');
afterAll(async () => {
  await pg?.cleanup();
  tmp.cleanup();
});
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const stores = [{ name: 'sqlite', database: () => `${tmp.dir}/fw-${Math.random().toString(36).slice(2)}.db` }, ...(pg ? [{ name: 'postgresql', database: () => pg.freshUrl('fw') }] : [])];
const fast = { retry: { baseMs: 40, maxMs: 200 }, pollMs: 50, random: () => 0.5, timeoutMs: 400 };

async function forwards(l: TestListener): Promise<Forward[]> {
  return (await l.store.listForwards({ limit: 1000 })).sort((a, b) => a.id - b.id);
}

describe.each(stores)('forwarding to the user’s app ($name)', (store) => {
  async function start(app: Awaited<ReturnType<typeof startFakeApp>>, database = store.database(), extra: Record<string, unknown> = {}) {
    const l = await startTestListener({ database, forward: { url: app.url, headers: { 'x-api-key': TEST_KEY }, ...fast, ...extra } });
    cleanups.push(() => l.cleanup());
    return l;
  }

  it('relays each new event once, byte for byte, with an API destination’s headers; a redelivery is not relayed again', async () => {
    const app = await startFakeApp();
    cleanups.push(() => app.close());
    const l = await start(app);
    const body = makeEvent('complete-hls-group', { jobId: 'fw-1' });
    const text = JSON.stringify(body, null, 2); // whatever the formatting, it goes out as received
    expect((await post(l.url, text)).json.status).toBe('processed');
    expect((await post(l.url, text)).json.status).toBe('duplicate');
    const ignored = makeEvent('progressing', { source: 'someone.else' });
    await post(l.url, ignored);
    await waitFor(() => app.requests.length === 2, 5000, 'two relays');
    await new Promise((r) => setTimeout(r, 200));
    expect(app.requests).toHaveLength(2);
    const first = app.requests[0]!;
    expect(first.body).toBe(text);
    expect(first.headers).toMatchObject({
      'user-agent': 'Amazon/EventBridge/ApiDestinations',
      'content-type': 'application/json; charset=utf-8',
      range: 'bytes=0-1048575',
      'x-api-key': TEST_KEY,
    });
    expect(JSON.parse(app.requests[1]!.body).id).toBe(ignored.id);
    await waitFor(async () => (await forwards(l)).every((f) => f.state === 'sent'), 5000, 'settled');
    expect((await forwards(l)).map((f) => [f.eventId, f.state, f.lastStatus, f.attempts])).toEqual([
      [body.id, 'sent', 200, 1],
      [ignored.id, 'sent', 200, 1],
    ]);
  });

  it('an app that fails (500, timeout, 429, 409) then recovers gets every event, in order per job', async () => {
    const app = await startFakeApp([{ status: 500 }, 'hang', { status: 429, headers: { 'retry-after': '0' } }, { status: 409 }]);
    cleanups.push(() => app.close());
    const l = await start(app);
    const lives = ['a', 'b'].map((j) => ['progressing', 'status-update', 'complete-file-group'].map((k, i) => makeEvent(k, { jobId: `fw-order-${j}`, timestamp: 1_700_000_000_000 + i })));
    for (let i = 0; i < 3; i++) for (const life of lives) expect((await post(l.url, life[i])).status).toBe(200);
    await waitFor(async () => (await forwards(l)).every((f) => f.state === 'sent'), 15_000, 'all sent');
    const delivered = app.requests.filter((r) => r.body).map((r) => JSON.parse(r.body) as { id: string; detail: { jobId: string } });
    for (const life of lives) {
      const ids = life.map((e) => e.id);
      // Each job's events reached the app in the order they were stored (a retry of an earlier one may repeat before
      // the later one, never after it).
      const lastSeen = ids.map((id) => delivered.map((d) => d.id).lastIndexOf(id));
      const firstSeen = ids.map((id) => delivered.map((d) => d.id).indexOf(id));
      expect(lastSeen[0]).toBeLessThan(firstSeen[1]!);
      expect(lastSeen[1]).toBeLessThan(firstSeen[2]!);
    }
    const rows = await forwards(l);
    // Four failed answers, each retried: 6 events, 10 attempts; a retried row keeps the reason it was late.
    expect(rows.reduce((n, f) => n + f.attempts, 0)).toBe(10);
    for (const f of rows.filter((r) => r.attempts > 1)) expect(['500', 'timed out after 400 ms', '429', '409']).toContain(f.lastError);
  });

  it('an app down for a while (connections refused) gets everything once it is back; a restart loses nothing', async () => {
    const app = await startFakeApp();
    cleanups.push(() => app.close());
    const database = store.database();
    const first = await startTestListener({ database, forward: { url: app.url, headers: {}, ...fast, retry: { baseMs: 60_000 } } });
    await app.down();
    const events = [0, 1, 2].map((i) => makeEvent('status-update', { jobId: 'fw-down', timestamp: 1_700_000_000_000 + i }));
    for (const e of events) expect((await post(first.url, e)).status).toBe(200);
    await waitFor(async () => (await forwards(first))[0]?.attempts === 1, 5000, 'a refused attempt');
    expect((await forwards(first))[0]?.lastError).toMatch(/network error ECONNREFUSED/);
    await first.close();

    await app.up();
    const second = await startTestListener({ database, forward: { url: app.url, headers: {}, ...fast } });
    cleanups.push(() => second.close());
    // The retry is scheduled a minute out; move it to now, as time passing would.
    await second.store.requeueForwards({ states: ['failed'] }, Date.now());
    if (second.store.engine === 'sqlite') second.db.prepare('UPDATE forwards SET next_attempt_at = 0').run();
    else await pg!.query(new URL(database).searchParams.get('schema') as string, 'UPDATE forwards SET next_attempt_at = 0');
    await waitFor(async () => (await forwards(second)).every((f) => f.state === 'sent'), 10_000, 'sent after restart');
    expect(app.requests.map((r) => JSON.parse(r.body).id)).toEqual(events.map((e) => e.id));
  });

  it('a permanent 4xx (400) fails at once with the app’s answer; requeueing sends it again', async () => {
    const app = await startFakeApp([{ status: 400, body: 'bad event' }]);
    cleanups.push(() => app.close());
    const l = await start(app);
    await post(l.url, makeEvent('error', { jobId: 'fw-400' }));
    await waitFor(async () => (await forwards(l))[0]?.state === 'failed', 5000, 'failed');
    expect((await forwards(l))[0]).toMatchObject({ attempts: 1, lastStatus: 400, lastError: '400 bad event' });
    const [id] = await l.store.requeueForwards({ states: ['failed'] }, Date.now());
    expect(id).toBeDefined();
    l.forwarder?.wake();
    await waitFor(async () => (await forwards(l))[0]?.state === 'sent', 5000, 'sent after requeue');
  });
});

describe.runIf(builtCliAvailable())('listen --forward-to (built CLI)', () => {
  it('forwards with the connection’s key, never logs a --forward-header value, refuses bad headers', async () => {
    const app = await startFakeApp();
    cleanups.push(() => app.close());
    const cwd = tmp.dir;
    const l = await spawnListen(['--db', 'cli-forward.db', '--forward-to', app.url, '--forward-header', 'X-App-Token: sekr3t-token', '-v'], { cwd, env: { VIDPIPE_API_KEY: 'cli-key' } });
    expect(l.stderr()).toContain(`forwarding: every new event to ${app.url} with X-App-Token`);
    const res = await fetch(`${l.url}/aws/listener/eventbridge/video`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'cli-key' },
      body: JSON.stringify(makeEvent('complete-file-group', { jobId: 'fw-cli' })),
    });
    expect(res.status).toBe(200);
    await waitFor(() => app.requests.length === 1, 5000, 'forwarded');
    expect(app.requests[0]?.headers).toMatchObject({ 'x-api-key': 'cli-key', 'x-app-token': 'sekr3t-token' });
    l.child.kill('SIGTERM');
    await l.exited;
    expect(l.stdout() + l.stderr()).not.toContain('sekr3t-token');

    const noTarget = await runCli(['listen', '--port', '0', '--forward-header', 'A: b'], { cwd, env: { VIDPIPE_API_KEY: 'k' } });
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toContain('--forward-header needs --forward-to.');
    const bad = await runCli(['listen', '--port', '0', '--forward-to', app.url, '--forward-header', 'no colon here-secret'], { cwd, env: { VIDPIPE_API_KEY: 'k' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--forward-header must look like "Name: value"');
    expect(bad.stderr).not.toContain('here-secret');
  });
});

