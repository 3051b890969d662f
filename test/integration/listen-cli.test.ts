import Database from 'better-sqlite3';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rotateApiKey } from '../../src/config/secrets.js';
import { builtCliAvailable, spawnCli, spawnListen } from '../helpers/cli.js';
import { EVENTBRIDGE_HEADERS, get, makeEvent, post, tempDir } from '../helpers/listener.js';

const tmp = tempDir('vidpipe-cli-');
afterAll(() => tmp.cleanup());
let n = 0;
const freshDir = () => {
  const dir = path.join(tmp.dir, `run-${++n}`);
  mkdirSync(dir);
  return dir;
};

describe.runIf(builtCliAvailable())('vidpipe listen (built CLI)', () => {
  it('on a fresh directory generates a key, prints it once, saves it 0600, and accepts it', async () => {
    const cwd = freshDir();
    const first = await spawnListen([], { cwd });
    const key = /^\s+(vp_[A-Za-z0-9_-]{43})$/m.exec(first.stderr())?.[1];
    expect(key).toBeDefined();
    expect(first.stderr()).toMatch(/auth: API key in header x-api-key \(1 accepted\), from .*\.vidpipe\/secrets\.json/);
    // Where commits run follows the cores (sqlite-committer.ts): inline on 1–2, on the writer thread from 3.
    expect(first.stderr()).toContain(`database: ${path.join(cwd, 'vidpipe.db')} (group commit ${availableParallelism() >= 3 ? 'on a worker thread' : 'inline'})`);
    expect(first.stdout()).not.toContain(key as string);
    expect(statSync(path.join(cwd, '.vidpipe', 'secrets.json')).mode & 0o777).toBe(0o600);
    const body = makeEvent('complete-file-group', { jobId: 'cli-1', postId: '1' });
    expect((await post(first.url, body, { ...EVENTBRIDGE_HEADERS, 'x-api-key': key as string })).status).toBe(200);
    expect((await post(first.url, makeEvent('progressing'), EVENTBRIDGE_HEADERS)).status).toBe(401);
    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.stderr()).toMatch(/SIGTERM: finishing in-flight requests…\nstopped/);
    // The log stream (stdout) never carries the key.
    expect(first.stdout()).not.toContain(key as string);

    const second = await spawnListen([], { cwd });
    expect(second.stderr()).not.toContain(key as string);
    expect(second.stderr()).not.toMatch(/generated/);
    expect((await get(second.url, '/api/posts/1', { 'x-api-key': key as string })).json.post.videoStatus).toBe('ready');
    second.child.kill('SIGINT');
    expect((await second.exited).code).toBe(0);
  });

  it('follows the secrets file: a rotated key is accepted within ~2 s without a restart, the previous one kept, the oldest dropped at the next rotation', async () => {
    const cwd = freshDir();
    const l = await spawnListen([], { cwd });
    expect(l.stderr()).toMatch(/auth: API key in header x-api-key \(1 accepted\), from .*secrets\.json \(changes apply without a restart\)/);
    const secretsFile = path.join(cwd, '.vidpipe', 'secrets.json');
    const k1 = /^\s+(vp_[A-Za-z0-9_-]{43})$/m.exec(l.stderr())?.[1] as string;
    const send = async (key: string) => (await post(l.url, makeEvent('progressing'), { ...EVENTBRIDGE_HEADERS, 'x-api-key': key })).status;
    /** Retries a refused key for up to `withinMs` (the listener looks at the file at most once a second). */
    const acceptedWithin = async (key: string, withinMs: number) => {
      const start = Date.now();
      while ((await send(key)) !== 200) {
        if (Date.now() - start > withinMs) return false;
        await new Promise((r) => setTimeout(r, 50));
      }
      return true;
    };

    const k2 = rotateApiKey(secretsFile).key;
    expect(await acceptedWithin(k2, 2_500)).toBe(true);
    expect(await send(k1)).toBe(200);
    await l.waitFor(/auth: .*secrets\.json changed; now accepting API key in header x-api-key \(2 accepted\)/);

    const k3 = rotateApiKey(secretsFile).key;
    expect(await acceptedWithin(k3, 2_500)).toBe(true);
    expect(await send(k2)).toBe(200);
    expect(await send(k1)).toBe(401);
    l.child.kill('SIGTERM');
    expect((await l.exited).code).toBe(0);
    // Said twice, never with a key; the logs (stdout) have none either.
    expect(l.stderr().match(/changed; now accepting/g)).toHaveLength(2);
    for (const key of [k2, k3]) expect(l.stderr() + l.stdout()).not.toContain(key);
  });

  it('takes VIDPIPE_API_KEY (rotation: comma-separated) and --auth-header; never prints the keys', async () => {
    const cwd = freshDir();
    const l = await spawnListen(['--auth-header', 'X-Vidpipe-Key'], { cwd, env: { VIDPIPE_API_KEY: 'new-key-1, old-key-2' } });
    expect(l.stderr()).toMatch(/auth: API key in header x-vidpipe-key \(2 accepted\), from VIDPIPE_API_KEY/);
    expect(l.stderr() + l.stdout()).not.toMatch(/new-key-1|old-key-2/);
    for (const key of ['new-key-1', 'old-key-2']) expect((await post(l.url, makeEvent('progressing'), { ...EVENTBRIDGE_HEADERS, 'x-vidpipe-key': key })).status).toBe(200);
    expect((await post(l.url, makeEvent('progressing'), { ...EVENTBRIDGE_HEADERS, 'x-api-key': 'new-key-1' })).status).toBe(401);
    l.child.kill('SIGTERM');
    await l.exited;
  });

  it.each(['thread', 'inline'])('answers 503 + Retry-After (VIDPIPE_SQLITE_WRITER=%s) while the database is locked, then takes the retry', async (writer) => {
    const cwd = freshDir();
    const l = await spawnListen(['--db', 'locked.db'], { cwd, env: { VIDPIPE_API_KEY: 'k', VIDPIPE_SQLITE_WRITER: writer } });
    expect(l.stderr()).toContain(`(group commit ${writer === 'thread' ? 'on a worker thread' : 'inline'})`);
    const headers = { ...EVENTBRIDGE_HEADERS, 'x-api-key': 'k' };
    const body = makeEvent('progressing', { jobId: 'locked-1' });
    const other = new Database(path.join(cwd, 'locked.db'));
    other.exec('BEGIN EXCLUSIVE');
    const busy = await post(l.url, body, headers);
    other.exec('ROLLBACK');
    other.close();
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('5');
    expect((await get(l.url, '/readyz', {})).json).toEqual({ status: 'ready' });
    expect((await post(l.url, body, headers)).json).toMatchObject({ status: 'processed', jobId: 'locked-1' });
    l.child.kill('SIGTERM');
    expect((await l.exited).code).toBe(0);
    // The log has the reason; the response had none of it.
    expect(l.stdout()).toMatch(/database unavailable/);
    expect(busy.text).not.toMatch(/SQLITE/);
  });

  it('SIGTERM under load: in-flight requests finish, every 2xx is stored, exit 0', async () => {
    const cwd = freshDir();
    const l = await spawnListen(['--db', 'drain.db'], { cwd, env: { VIDPIPE_API_KEY: 'k' } });
    const headers = { ...EVENTBRIDGE_HEADERS, 'x-api-key': 'k' };
    const events = Array.from({ length: 300 }, (_, i) => makeEvent('status-update', { jobId: `drain-${i % 30}` }));
    let firstOk!: () => void;
    const someAccepted = new Promise<void>((r) => (firstOk = r));
    const results = events.map((e, i) =>
      new Promise((r) => setTimeout(r, i)).then(() =>
        post(l.url, e, headers).then(
          (res) => {
            if (res.status === 200) firstOk();
            return res.status;
          },
          () => 'refused',
        ),
      ),
    );
    // Signal once the listener is taking events (not after a fixed delay, which a loaded machine can outlast);
    // requests keep starting for ~300 ms, so some are in flight and some come after the signal.
    await someAccepted;
    l.child.kill('SIGTERM');
    const statuses = await Promise.all(results);
    expect((await l.exited).code).toBe(0);
    // Accepted before the signal: 200. Arriving on a kept-alive connection after it: 503 (EventBridge retries).
    // New connections: refused.
    expect(statuses.filter((s) => s !== 200 && s !== 503 && s !== 'refused')).toEqual([]);
    const ok = events.filter((_, i) => statuses[i] === 200).map((e) => e.id);
    const retry = events.filter((_, i) => statuses[i] === 503).map((e) => e.id);
    expect(ok.length).toBeGreaterThan(0);
    const db = new Database(path.join(cwd, 'drain.db'), { readonly: true });
    const stored = new Set((db.prepare('SELECT event_id FROM inbox').all() as { event_id: string }[]).map((r) => r.event_id));
    db.close();
    for (const id of ok) expect(stored.has(id)).toBe(true);
    for (const id of retry) expect(stored.has(id)).toBe(false);
  });

  it('--insecure-no-auth warns on every start', async () => {
    const cwd = freshDir();
    for (let i = 0; i < 2; i++) {
      const l = await spawnListen(['--insecure-no-auth'], { cwd });
      expect(l.stderr()).toMatch(/warning: authentication is OFF \(--insecure-no-auth\)/);
      expect((await post(l.url, makeEvent('progressing'), EVENTBRIDGE_HEADERS)).status).toBe(200);
      l.child.kill('SIGTERM');
      await l.exited;
    }
  });

  it('reads the config listen section and the global --config path; env beats config; flags beat env', async () => {
    const cwd = freshDir();
    const config = {
      app: 'demo',
      inputBucket: 'demo-input',
      outputBucket: 'demo-output',
      listener: { auth: 'API_KEY', authHeader: 'x-from-config' },
      listen: { db: 'data/from-config.db' },
      templates: ['mp4'],
      statuses: ['COMPLETE', 'ERROR'],
      trigger: 'none',
      rateLimitPerSecond: 10,
      retryPolicy: { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 86400 },
      deadLetterQueue: true,
      allowSimulatorSource: true,
      simulatorSource: 'demo.sim',
    };
    const confDir = path.join(cwd, 'conf');
    mkdirSync(path.join(confDir, 'data'), { recursive: true });
    writeFileSync(path.join(confDir, 'vidpipe.config.json'), JSON.stringify(config));
    const l = await spawnListen(['--config', path.join(confDir, 'vidpipe.config.json')], { cwd, env: { VIDPIPE_API_KEY: 'k' } });
    expect(l.stderr()).toContain(`database: ${path.join(confDir, 'data', 'from-config.db')}`);
    expect(l.stderr()).toContain('header x-from-config');
    const sim = makeEvent('progressing', { source: 'demo.sim' });
    expect((await post(l.url, sim, { ...EVENTBRIDGE_HEADERS, 'x-from-config': 'k' })).json.status).toBe('processed');
    l.child.kill('SIGTERM');
    await l.exited;

    const viaEnv = await spawnListen(['--config', path.join(confDir, 'vidpipe.config.json')], { cwd, env: { VIDPIPE_API_KEY: 'k', VIDPIPE_DB: 'env.db' } });
    expect(viaEnv.stderr()).toContain(`database: ${path.join(cwd, 'env.db')}`);
    viaEnv.child.kill('SIGTERM');
    await viaEnv.exited;
    const viaFlag = await spawnListen(['--db', 'flag.db'], { cwd, env: { VIDPIPE_API_KEY: 'k', VIDPIPE_DB: 'env.db' } });
    expect(viaFlag.stderr()).toContain(`database: ${path.join(cwd, 'flag.db')}`);
    viaFlag.child.kill('SIGTERM');
    await viaFlag.exited;
  });

  it('exits 2 with a hint for a database from a newer vidpipe, a port in use, a bad port', async () => {
    const cwd = freshDir();
    const db = new Database(path.join(cwd, 'new.db'));
    db.pragma('user_version = 42');
    db.close();
    const tooNew = spawnCli(['listen', '--port', '0', '--db', 'new.db'], { cwd, env: { VIDPIPE_API_KEY: 'k' } });
    expect((await tooNew.exited).code).toBe(2);
    expect(tooNew.stderr()).toMatch(/error: .*new\.db has schema version 42, newer than this vidpipe understands \(6\)\.\nhint: Upgrade vidpipe/);

    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const inUse = spawnCli(['listen', '--port', String(port), '--db', 'deep/er/fresh.db'], { cwd, env: { VIDPIPE_API_KEY: 'k' } });
    expect((await inUse.exited).code).toBe(2);
    expect(inUse.stderr()).toMatch(new RegExp(`Port ${port} on 127.0.0.1 is already in use`));
    // The port is checked first: nothing was created.
    expect(existsSync(path.join(cwd, 'deep'))).toBe(false);
    blocker.close();

    const noDir = spawnCli(['listen', '--port', '0', '--db', 'missing/dir/x.db'], { cwd, env: { VIDPIPE_API_KEY: 'k' } });
    expect((await noDir.exited).code).toBe(2);
    expect(noDir.stderr()).toContain(`The directory ${path.join(cwd, 'missing', 'dir')} for the database`);
    expect(noDir.stderr()).toContain('hint: Create it (mkdir -p');
    expect(existsSync(path.join(cwd, 'missing'))).toBe(false);

    const scheme = spawnCli(['listen', '--port', '0', '--database', 'mysql://u:hunter2@db/x'], { cwd, env: { VIDPIPE_API_KEY: 'k' } });
    expect((await scheme.exited).code).toBe(2);
    expect(scheme.stderr()).toContain('Unknown database scheme "mysql:" in mysql://u:***@db/x');
    expect(scheme.stderr()).not.toContain('hunter2');

    const both = spawnCli(['listen', '--port', '0', '--database', 'a.db', '--db', 'b.db'], { cwd, env: { VIDPIPE_API_KEY: 'k' } });
    expect((await both.exited).code).toBe(2);
    expect(both.stderr()).toContain('Pass --database or --db, not both.');

    const badWriter = spawnCli(['listen', '--port', '0', '--db', 'w.db'], { cwd, env: { VIDPIPE_API_KEY: 'k', VIDPIPE_SQLITE_WRITER: 'threads' } });
    expect((await badWriter.exited).code).toBe(2);
    expect(badWriter.stderr()).toContain('VIDPIPE_SQLITE_WRITER="threads" is not one of inline, thread, auto.');
    expect(existsSync(path.join(cwd, 'w.db'))).toBe(false);

    const badPort = spawnCli(['listen'], { cwd, env: { VIDPIPE_API_KEY: 'k', PORT: 'eighty' } });
    expect((await badPort.exited).code).toBe(2);
    expect(badPort.stderr()).toMatch(/PORT must be a whole number from 0 to 65535, got "eighty"/);
  });
});
