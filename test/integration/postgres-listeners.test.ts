/**
 * Several listeners on one real PostgreSQL database, with faults: instances of the built CLI SIGKILLed mid-stream, the
 * database cut off (a TCP proxy between listener and server that drops every connection), wrong credentials.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { builtCliAvailable, runCli, spawnListen } from '../helpers/cli.js';
import { startFakeSlack, waitFor } from '../helpers/fake-slack.js';
import { EVENTBRIDGE_HEADERS, makeEvent, startTestListener, tempDir, TEST_KEY, type Body } from '../helpers/listener.js';
import { schemaOf, testPostgres } from '../helpers/postgres.js';

const server = await testPostgres();
const tmp = tempDir('vidpipe-pg-');
afterAll(async () => {
  await server?.cleanup();
  tmp.cleanup();
});
const KEY = 'pg-test-key';
const headers = { ...EVENTBRIDGE_HEADERS, 'x-api-key': KEY };

async function send(url: string, body: Body, key = KEY): Promise<number | 'error'> {
  try {
    const res = await fetch(`${url}/aws/listener/eventbridge/video`, { method: 'POST', headers: { ...headers, 'x-api-key': key }, body: JSON.stringify(body) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 'error';
  }
}

function seeded(seed: number) {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** A TCP proxy to PostgreSQL that can cut every connection and refuse new ones: the database "going away". */
async function startProxy(target: URL) {
  const sockets = new Set<Socket>();
  let up = true;
  const proxy: Server = createServer((client) => {
    if (!up) return client.destroy();
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const port = (proxy.address() as { port: number }).port;
  return {
    port,
    cut() {
      up = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      up = true;
    },
    close: () => new Promise<void>((r) => proxy.close(() => r())),
  };
}

describe.runIf(Boolean(server))('several listeners on one PostgreSQL', () => {
  it.runIf(builtCliAvailable())(
    'chaos: two instances, alternating, duplicated and shuffled events, one SIGKILLed and restarted — each acked event stored once, jobs as one instance folds them, each terminal notified once',
    async () => {
      const pg = server!;
      const database = pg.freshUrl('chaos');
      const slack = await startFakeSlack([]);
      const env = { VIDPIPE_API_KEY: KEY, SLACK_WEBHOOK_URL: slack.url, VIDPIPE_DATABASE_URL: database };
      const cwd = tmp.dir;

      const JOBS = 30;
      const kinds = ['progressing', 'input-information', 'status-update', 'new-warning', 'complete-file-group'];
      const events: Body[] = [];
      for (let j = 0; j < JOBS; j++)
        kinds.forEach((kind, k) => events.push(makeEvent(kind, { jobId: `chaos-${j}`, postId: `chaos-post-${j % 10}`, timestamp: 1_700_000_000_000 + j * 10 + k })));
      const random = seeded(42);
      // Every event twice, in a shuffled order.
      const stream = [...events, ...events].sort(() => random() - 0.5);

      const a = await spawnListen([], { cwd, env });
      let b = await spawnListen([], { cwd, env });
      const acked = new Set<string>();
      let next = 0;
      let killed = false;
      const worker = async (w: number) => {
        while (next < stream.length) {
          const i = next++;
          const body = stream[i] as Body;
          // Alternate between the instances; after the kill, B's share goes to A until B is back.
          const target = i % 2 === 0 || killed ? a : b;
          const status = await send(target.url, body);
          if (status === 200) acked.add(body.id);
          else if (status === 'error' || status === 503) next = Math.min(next, i); // retried, as EventBridge would
          else throw new Error(`unexpected ${status}`);
          if (!killed && acked.size >= 120 && w === 0) {
            killed = true;
            b.child.kill('SIGKILL');
            await b.exited;
            b = await spawnListen([], { cwd, env });
            killed = false;
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
      for (const e of events) expect(acked.has(e.id), e.id).toBe(true);

      // Exactly once in the inbox.
      const schema = schemaOf(database);
      const counts = await pg.query<{ event_id: string; n: number }>(schema, 'SELECT event_id, COUNT(*)::int AS n FROM inbox GROUP BY event_id');
      expect(counts.length).toBe(events.length);
      expect(counts.every((r) => r.n === 1)).toBe(true);

      // Jobs and posts as one SQLite instance folds the same events.
      const reference = await startTestListener({ logLevel: 'silent' });
      for (const e of events) await send(reference.url, e, TEST_KEY);
      for (let j = 0; j < JOBS; j++) {
        const got = await (await fetch(`${a.url}/api/videos/chaos-${j}`, { headers: { 'x-api-key': KEY } })).json();
        const want = await (await fetch(`${reference.url}/api/videos/chaos-${j}`, { headers: { 'x-api-key': TEST_KEY } })).json();
        const strip = (v: any) => ({ ...v.video, updatedAt: undefined });
        expect(strip(got), `chaos-${j}`).toEqual(strip(want));
      }
      for (let p = 0; p < 10; p++) {
        const got: any = await (await fetch(`${b.url}/api/posts/chaos-post-${p}`, { headers: { 'x-api-key': KEY } })).json();
        const want: any = await (await fetch(`${reference.url}/api/posts/chaos-post-${p}`, { headers: { 'x-api-key': TEST_KEY } })).json();
        expect({ ...got.post, updatedAt: 0 }).toEqual({ ...want.post, updatedAt: 0 });
      }
      await reference.cleanup();

      // Each COMPLETE notified once. A message in flight at the SIGKILL may be sent once more by the instance that
      // takes its lease over (at least once): allow one repeat, for at most one job.
      await waitFor(async () => {
        const rows = await pg.query<{ n: number }>(schema, "SELECT COUNT(*)::int AS n FROM outbox WHERE state = 'sent'");
        return rows[0]?.n === JOBS;
      }, 60_000, 'every notification sent');
      const perJob = new Map<string, number>();
      for (const r of slack.requests) {
        const job = /\(job (chaos-\d+)\)/.exec(r.body.text)?.[1] as string;
        perJob.set(job, (perJob.get(job) ?? 0) + 1);
      }
      expect(perJob.size).toBe(JOBS);
      const repeats = [...perJob.values()].filter((n) => n > 1);
      expect(repeats.length).toBeLessThanOrEqual(1);
      expect(repeats.every((n) => n === 2)).toBe(true);

      for (const l of [a, b]) l.child.kill('SIGTERM');
      expect((await a.exited).code).toBe(0);
      expect((await b.exited).code).toBe(0);
      await slack.close();
    },
    120_000,
  );

  it('two instances without a kill never send a notification twice', async () => {
    const pg = server!;
    const database = pg.freshUrl('twice');
    const slack = await startFakeSlack([]);
    const fast = { minIntervalMs: 1, pollMs: 50 };
    const a = await startTestListener({ database, slackWebhookUrl: slack.url, notifier: fast });
    const b = await startTestListener({ database, slackWebhookUrl: slack.url, notifier: fast });
    const jobs = Array.from({ length: 20 }, (_, i) => `twice-${i}`);
    await Promise.all(jobs.map((jobId, i) => send((i % 2 ? a : b).url, makeEvent('complete-file-group', { jobId }), TEST_KEY)));
    await waitFor(async () => (await pg.query<{ n: number }>(schemaOf(database), "SELECT COUNT(*)::int AS n FROM outbox WHERE state = 'sent'"))[0]?.n === jobs.length, 20_000, 'all sent');
    await new Promise((r) => setTimeout(r, 300));
    const texts = slack.requests.map((r) => r.body.text as string);
    expect(texts).toHaveLength(jobs.length);
    for (const jobId of jobs) expect(texts.filter((t) => t.includes(`(job ${jobId})`))).toHaveLength(1);
    await a.cleanup();
    await b.cleanup();
    await slack.close();
  });

  it('the database going away: 503 with Retry-After and a not-ready /readyz; back by itself when it returns, nothing acked lost', async () => {
    const pg = server!;
    const target = new URL(pg.url);
    const proxy = await startProxy(target);
    const viaProxy = new URL(pg.freshUrl('cut'));
    viaProxy.port = String(proxy.port);
    const slack = await startFakeSlack([]);
    const l = await startTestListener({ database: viaProxy.toString(), slackWebhookUrl: slack.url, notifier: { pollMs: 50, minIntervalMs: 1 } });
    const ok = makeEvent('progressing', { jobId: 'cut-1' });
    expect(await send(l.url, ok, TEST_KEY)).toBe(200);

    proxy.cut();
    const during = makeEvent('complete-file-group', { jobId: 'cut-1' });
    const res = await fetch(`${l.url}/aws/listener/eventbridge/video`, { method: 'POST', headers: { ...EVENTBRIDGE_HEADERS, 'x-api-key': TEST_KEY }, body: JSON.stringify(during) });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const ready = await fetch(`${l.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reason: string }).reason).toMatch(/database/);

    proxy.restore();
    // EventBridge retries the 503: the same event is stored once the database is back, no restart needed.
    await waitFor(async () => (await send(l.url, during, TEST_KEY)) === 200, 15_000, 'accepted again');
    expect((await fetch(`${l.url}/readyz`)).status).toBe(200);
    await waitFor(() => slack.requests.length === 1, 15_000, 'notified after the outage');
    const video: any = await (await fetch(`${l.url}/api/videos/cut-1`, { headers: { 'x-api-key': TEST_KEY } })).json();
    expect(video.video).toMatchObject({ status: 'COMPLETE', eventCount: 2 });
    await l.cleanup();
    await slack.close();
    await proxy.close();
  });

  it.runIf(builtCliAvailable())('start-up errors name the problem and the fix, never the password, and create nothing', async () => {
    const pg = server!;
    const cwd = tmp.dir;
    const wrong = new URL(pg.freshUrl('denied'));
    wrong.password = 'not-the-password-s3cr3t';
    const denied = await runCli(['listen', '--port', '0', '--database', wrong.toString()], { cwd, env: { VIDPIPE_API_KEY: KEY } });
    expect(denied.code).toBe(3);
    expect(denied.stderr).toMatch(/PostgreSQL refused the credentials for postgres:\/\/vidpipe_test:\*\*\*@/);
    expect(denied.stderr).toContain('hint: Check the user name and password');
    expect(denied.stderr + denied.stdout).not.toContain('s3cr3t');
    expect(await pg.query(schemaOf(wrong.toString()), "SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", [schemaOf(wrong.toString())])).toEqual([]);

    const closedPort = new URL(pg.freshUrl('unreachable'));
    closedPort.port = '1';
    const unreachable = await runCli(['listen', '--port', '0', '--database', closedPort.toString(), '--json'], { cwd, env: { VIDPIPE_API_KEY: KEY } });
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr + unreachable.stdout).toMatch(/Cannot connect to PostgreSQL at postgres:\/\/vidpipe_test:\*\*\*@127\.0\.0\.1:1\//);
    expect(unreachable.stderr + unreachable.stdout).not.toContain('vidpipe-test-pw');

    const noDb = new URL(pg.url);
    noDb.pathname = '/no_such_database';
    const missing = await runCli(['listen', '--port', '0', '--database', noDb.toString()], { cwd, env: { VIDPIPE_API_KEY: KEY } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('does not exist');

    const malformed = await runCli(['listen', '--port', '0', '--database', 'postgres://user:pw@/'], { cwd, env: { VIDPIPE_API_KEY: KEY } });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).not.toContain(':pw@');
  });

  it.runIf(builtCliAvailable())('listen prints the redacted URL and the schema it uses', async () => {
    const pg = server!;
    const database = pg.freshUrl('banner');
    const l = await spawnListen(['--database', database], { cwd: tmp.dir, env: { VIDPIPE_API_KEY: KEY } });
    expect(l.stderr()).toMatch(new RegExp(`database: postgres://vidpipe_test:\\*\\*\\*@127\\.0\\.0\\.1:5432/vidpipe_test \\(schema ${schemaOf(database)}\\) \\(group commit on a connection pool\\)`));
    expect(l.stderr()).not.toContain('vidpipe-test-pw');
    l.child.kill('SIGTERM');
    expect((await l.exited).code).toBe(0);
  });
});

