/**
 * Issue 11 item 7: logs cannot stop ingest. The built CLI with its stdout on /dev/full (every write fails with ENOSPC),
 * on a pipe whose reader went away (EPIPE) and on a pipe nobody reads: it starts, answers /healthz, stores and
 * acknowledges events, stops on SIGTERM, and says once on stderr that logs are being dropped. And the destination
 * itself, on real file descriptors.
 */
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogDestination } from '../../src/listener/log-destination.js';
import { builtCliAvailable, spawnListen, type CliChild } from '../helpers/cli.js';
import { LISTENER_PATH, TEST_KEY, makeEvent, tempDir } from '../helpers/listener.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const haveDevFull = existsSync('/dev/full');
const headers = { 'content-type': 'application/json', 'x-api-key': TEST_KEY };

async function ingest(url: string, n: number): Promise<string[]> {
  const jobIds: string[] = [];
  // 20 at a time, as EventBridge's concurrent deliveries would come.
  for (let at = 0; at < n; at += 20)
    await Promise.all(Array.from({ length: Math.min(20, n - at) }, (_, k) => postOne(at + k)));
  return jobIds;

  async function postOne(i: number) {
    const event = makeEvent('complete-file-group', { jobId: `logs-${i}-${Math.random().toString(36).slice(2, 8)}` });
    const res = await fetch(`${url}${LISTENER_PATH}`, { method: 'POST', headers, body: JSON.stringify(event) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('processed');
    jobIds.push(event.detail.jobId as string);
  }
}

async function stop(c: CliChild): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  c.child.kill('SIGTERM');
  // A hung listener (the old sync destination) never exits: bounded here so the test fails instead of hanging.
  const timer = setTimeout(() => c.child.kill('SIGKILL'), 10_000);
  const result = await c.exited;
  clearTimeout(timer);
  return result;
}

function start(dir: string, stdout?: number) {
  return spawnListen(['--db', 'v.db', '-v'], { cwd: dir, env: { VIDPIPE_API_KEY: TEST_KEY }, ...(stdout === undefined ? {} : { stdout }) });
}

describe.skipIf(!builtCliAvailable())('vidpipe listen with a failing stdout', () => {
  it.skipIf(!haveDevFull)('stdout on /dev/full: starts, answers, stores, stops on SIGTERM, warns once', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const full = openSync('/dev/full', 'w');
    cleanups.push(() => closeSync(full));
    const l = await start(t.dir, full);
    cleanups.push(() => l.child.kill('SIGKILL'));

    expect((await fetch(`${l.url}/healthz`)).status).toBe(200);
    const jobIds = await ingest(l.url, 20);
    for (const jobId of jobIds.slice(0, 3)) expect((await fetch(`${l.url}/api/videos/${jobId}`, { headers })).status).toBe(200);

    expect(await stop(l)).toEqual({ code: 0, signal: null });
    const warnings = l.stderr().match(/logs: stdout failed \(ENOSPC\)/g) ?? [];
    expect(warnings).toHaveLength(1);
    expect(l.stderr()).toMatch(/logs: \d+ log lines were dropped/);
    expect(l.stderr()).toContain('stopped');
  });

  it('stdout on a pipe whose reader went away (EPIPE): still answers and stops cleanly', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const l = await start(t.dir);
    cleanups.push(() => l.child.kill('SIGKILL'));
    l.child.stdout?.destroy();
    await ingest(l.url, 20);
    expect((await fetch(`${l.url}/healthz`)).status).toBe(200);
    expect(await stop(l)).toEqual({ code: 0, signal: null });
    expect(l.stderr().match(/logs: stdout failed \(EPIPE\)/g) ?? []).toHaveLength(1);
  });

  it('stdout on a pipe nobody reads: the event loop is not blocked, and SIGTERM still stops it', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const l = await start(t.dir);
    cleanups.push(() => l.child.kill('SIGKILL'));
    // Stop reading: the pipe (64 KiB) and what this process had already read before pausing (~110 KiB, measured) fill
    // after ~170 KiB of log lines, ~800 events at debug level.
    l.child.stdout?.pause();
    await ingest(l.url, 1000);
    expect((await fetch(`${l.url}/healthz`)).status).toBe(200);
    expect(await stop(l)).toEqual({ code: 0, signal: null });
    // What was still queued for the pipe at the end was given up, and said so.
    expect(l.stderr()).toMatch(/logs: \d+ log lines were dropped/);
  });
});

describe('createLogDestination', () => {
  it.skipIf(!haveDevFull)('on /dev/full: never throws, counts what it drops, reports the failure once', async () => {
    const fd = openSync('/dev/full', 'w');
    cleanups.push(() => closeSync(fd));
    const failures: NodeJS.ErrnoException[] = [];
    const d = createLogDestination({ fd, onFailure: (e) => failures.push(e) });
    for (let i = 0; i < 100; i++) expect(d.write(`{"n":${i}}\n`)).toBe(true);
    await d.close();
    expect(failures.map((e) => e.code)).toEqual(['ENOSPC']);
    expect(d.dropped).toBe(100);
  });

  it('on a file: writes every line, in order', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const file = path.join(t.dir, 'log.jsonl');
    const fd = openSync(file, 'w');
    cleanups.push(() => closeSync(fd));
    const d = createLogDestination({ fd });
    for (let i = 0; i < 1000; i++) d.write(`{"n":${i}}\n`);
    await d.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1000);
    expect(lines.map((l) => JSON.parse(l).n)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(d.dropped).toBe(0);
  });

  it('on a closed descriptor: drops without throwing', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const fd = openSync(path.join(t.dir, 'x'), 'w');
    closeSync(fd);
    const failures: string[] = [];
    const d = createLogDestination({ fd, onFailure: (e) => failures.push(String(e.code)) });
    d.write('{"a":1}\n');
    d.write('{"a":2}\n');
    await d.close();
    expect(failures).toEqual(['EBADF']);
    expect(d.dropped).toBe(2);
  });
});
