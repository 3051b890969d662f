/**
 * Parts 1 and 2: `vidpipe listen` (auth, validation, the full transaction, a 2xx only after a durable group commit)
 * beside a bare fastify route answering `{}`, both as child processes on loopback, driven by autocannon from this
 * process. Bodies are realistic COMPLETE envelopes from the simulator's builder with distinct ids and job ids, sent
 * with EventBridge's headers and the API key. autocannon keeps connections alive (EventBridge sends
 * `Connection: close`); both sides of each ratio are measured the same way.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { buildEvent, defaultOutputs, PLACEHOLDER_ACCOUNT, PLACEHOLDER_OUTPUT_BUCKET } from '../src/events/build.js';
import { freePort } from '../test/helpers/moto.js';
import { CLI, ROOT, round, rssMiB } from './lib.js';
import { runLoad, type LoadFigures } from './load.js';

export const PATH = '/aws/listener/eventbridge/video';
export const API_KEY = 'bench-key-0123456789abcdef';
export const HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'user-agent': 'Amazon/EventBridge/ApiDestinations',
  range: 'bytes=0-1048575',
  'x-api-key': API_KEY,
};

/**
 * One COMPLETE envelope serialised once, with placeholders swapped per request: building and stringifying a fresh
 * object per request would make the load generator, which shares the 2 cores, the bottleneck.
 */
export function completeBodyFactory(runTag: string): (n: number) => string {
  const job = {
    jobId: 'JOBID',
    account: PLACEHOLDER_ACCOUNT,
    region: 'us-east-1',
    userMetadata: { postId: 'POSTID', app: 'bench' },
    inputUri: 's3://bench-input/uploads/sample.mp4',
    outputs: defaultOutputs(PLACEHOLDER_OUTPUT_BUCKET, 'uploads/JOBID', 'sample'),
  };
  const event = buildEvent('COMPLETE', job, Date.now(), { uuid: () => 'EVENTID' });
  const parts = JSON.stringify(event).split(/(EVENTID|JOBID|POSTID)/);
  const base = Date.now();
  return (n: number) => {
    const values: Record<string, string> = { EVENTID: `${runTag}-${n}`, JOBID: `${base}-${n.toString(36)}-${runTag}`, POSTID: String(n % 5000) };
    let out = '';
    for (const p of parts) out += values[p] ?? p;
    return out;
  };
}

export interface Server {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

async function waitHealthy(url: string, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited ${proc.exitCode}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(500) });
      if (r.status < 500) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`not healthy: ${url}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function spawnServer(args: string[], env: NodeJS.ProcessEnv, health: (port: number) => string): Promise<Server> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'vidpipe-bench-'));
  // Logs go to a file, as a service's would; piping them back would cost this process (the load generator) CPU.
  const log = openSync(path.join(dir, 'server.log'), 'a');
  const proc = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', log, log] });
  closeSync(log);
  await waitHealthy(health(port), proc);
  return {
    url: `http://127.0.0.1:${port}`,
    pid: proc.pid!,
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function startBare(): Promise<Server> {
  return spawnServer([path.join(ROOT, 'dist', 'bench', 'bare-fastify.js')], {}, (port) => `http://127.0.0.1:${port}/nothing`);
}

async function startListener(dbPath: string): Promise<Server> {
  return spawnServer([CLI, 'listen', '--host', '127.0.0.1', '--db', dbPath], { VIDPIPE_API_KEY: API_KEY, SLACK_WEBHOOK_URL: '' }, (port) => `http://127.0.0.1:${port}/readyz`);
}

export interface ManyConnectionsResult {
  connections: number;
  bare: LoadFigures;
  listener: LoadFigures & { events: number };
  ratioToBare: number;
  storedExactlyOnce: boolean;
}

export interface ListenerBenchResult {
  connections: number;
  bare: LoadFigures;
  listener: LoadFigures & { rssMiBAfter: number | undefined; events: number };
  duplicates: LoadFigures;
  ratioToBare: number;
  duplicatesRatioToBare: number;
  storedExactlyOnce: boolean;
  /** The same ingest at more connections (EventBridge delivers over many concurrent connections). */
  many: ManyConnectionsResult;
}

export async function benchListener(
  options: { events?: number; connections?: number; bareSeconds?: number; manyConnections?: number; manyEvents?: number } = {},
): Promise<ListenerBenchResult> {
  const events = options.events ?? 100_000;
  const connections = options.connections ?? 20;
  const manyConnections = options.manyConnections ?? 100;
  const body = completeBodyFactory('run1');

  const bare = await startBare();
  let bareFigures: LoadFigures;
  let bareMany: LoadFigures;
  try {
    await runLoad({ url: `${bare.url}${PATH}`, connections, durationSec: 2, headers: HEADERS, body }); // warm-up
    bareFigures = await runLoad({ url: `${bare.url}${PATH}`, connections, durationSec: options.bareSeconds ?? 10, headers: HEADERS, body });
    bareMany = await runLoad({ url: `${bare.url}${PATH}`, connections: manyConnections, durationSec: options.bareSeconds ?? 10, headers: HEADERS, body });
  } finally {
    await bare.stop();
  }

  const dbPath = path.join(mkdtempSync(path.join(tmpdir(), 'vidpipe-bench-db-')), 'bench.db');
  const listener = await startListener(dbPath);
  let listenerFigures: LoadFigures;
  let duplicateFigures: LoadFigures;
  let rssAfter: number | undefined;
  const acked = new Set<string>();
  try {
    listenerFigures = await runLoad({ url: `${listener.url}${PATH}`, connections, amount: events, headers: HEADERS, body, onAck: collectEventId(acked) });
    rssAfter = rssMiB(listener.pid);
    // The idempotent path: every id already stored.
    duplicateFigures = await runLoad({ url: `${listener.url}${PATH}`, connections, amount: Math.min(events, 50_000), headers: HEADERS, body });
  } finally {
    await listener.stop();
  }
  const many = await ingestMany(manyConnections, options.manyEvents ?? Math.round(events / 4), bareMany);
  return {
    connections,
    bare: bareFigures,
    listener: { ...listenerFigures, rssMiBAfter: rssAfter, events },
    duplicates: duplicateFigures,
    ratioToBare: round(listenerFigures.reqPerSec / bareFigures.reqPerSec, 3),
    duplicatesRatioToBare: round(duplicateFigures.reqPerSec / bareFigures.reqPerSec, 3),
    storedExactlyOnce: storedExactlyOnce(dbPath, 'run1-', acked),
    many,
  };
}

/** Ingest only, on a fresh database, at many connections. */
async function ingestMany(connections: number, events: number, bare: LoadFigures): Promise<ManyConnectionsResult> {
  const dbPath = path.join(mkdtempSync(path.join(tmpdir(), 'vidpipe-bench-db-')), 'many.db');
  const listener = await startListener(dbPath);
  const acked = new Set<string>();
  let figures: LoadFigures;
  try {
    figures = await runLoad({ url: `${listener.url}${PATH}`, connections, amount: events, headers: HEADERS, body: completeBodyFactory('many'), onAck: collectEventId(acked) });
  } finally {
    await listener.stop();
  }
  return {
    connections,
    bare,
    listener: { ...figures, events },
    ratioToBare: round(figures.reqPerSec / bare.reqPerSec, 3),
    storedExactlyOnce: storedExactlyOnce(dbPath, 'many-', acked),
  };
}

/** Collects the eventId of each `processed` answer. */
export function collectEventId(into: Set<string>): (body: string) => void {
  return (body) => {
    const answer = JSON.parse(body) as { status?: string; eventId?: string };
    if (answer.status === 'processed' && answer.eventId) into.add(answer.eventId);
  };
}

/**
 * Every acknowledged event is in the inbox, and each stored row is one acknowledged or timed-out event, once.
 * Then removes the database's directory (100,000 events make ~600 MB).
 */
function storedExactlyOnce(dbPath: string, prefix: string, acked: Set<string>): boolean {
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db.prepare(`SELECT event_id FROM inbox WHERE event_id LIKE ? || '%'`).pluck().all(prefix) as string[];
    const stored = new Set(rows);
    // The inbox's primary key makes a second copy impossible; check it anyway, then that nothing acknowledged is missing.
    if (stored.size !== rows.length) return false;
    for (const id of acked) if (!stored.has(id)) return false;
    return true;
  } finally {
    db.close();
    rmSync(path.dirname(dbPath), { recursive: true, force: true });
  }
}

export interface FootprintResult {
  /** RSS in MiB after each number of stored events, on one listener and one database. */
  rssMiB: Array<{ events: number; rssMiB: number | undefined }>;
  /** RSS at the last checkpoint ÷ RSS at the first. */
  growth: number;
  non2xx: number;
  storedExactlyOnce: boolean;
}

/**
 * Part 6: memory over a long run. One listener, one database, `events` new events at 20 connections, its RSS read at
 * each checkpoint (default 100,000 → 1,000,000): the working set must stay flat (caches bounded), not track the file.
 * 1,000,000 events make a ~6 GB database in the temporary directory, removed after.
 */
export async function benchFootprint(options: { checkpoints?: number[]; connections?: number } = {}): Promise<FootprintResult> {
  const checkpoints = options.checkpoints ?? [100_000, 250_000, 500_000, 750_000, 1_000_000];
  const dbPath = path.join(mkdtempSync(path.join(tmpdir(), 'vidpipe-bench-db-')), 'footprint.db');
  const listener = await startListener(dbPath);
  const body = completeBodyFactory('foot');
  const acked = new Set<string>();
  const rss: FootprintResult['rssMiB'] = [];
  let sent = 0;
  let non2xx = 0;
  try {
    for (const target of checkpoints) {
      const from = sent;
      const f = await runLoad({ url: `${listener.url}${PATH}`, connections: options.connections ?? 20, amount: target - sent, headers: HEADERS, body: (n) => body(from + n), onAck: collectEventId(acked) });
      non2xx += f.non2xx;
      sent = target;
      rss.push({ events: target, rssMiB: rssMiB(listener.pid) });
    }
  } finally {
    await listener.stop();
  }
  const first = rss[0]?.rssMiB ?? 0;
  const last = rss.at(-1)?.rssMiB ?? 0;
  return { rssMiB: rss, growth: first ? round(last / first, 2) : 0, non2xx, storedExactlyOnce: storedExactlyOnce(dbPath, 'foot-', acked) };
}

export interface BurstResult {
  events: number;
  ratePerSec: number;
  figures: LoadFigures;
  allAcknowledged: boolean;
  maxLatencyUnder5s: boolean;
  storedExactlyOnce: boolean;
}

/** Part 2: 10,000 events fired at 2,000/s; each acknowledged in under 5 s and stored exactly once. */
export async function benchBurst(options: { events?: number; ratePerSec?: number } = {}): Promise<BurstResult> {
  const events = options.events ?? 10_000;
  const ratePerSec = options.ratePerSec ?? 2_000;
  const dbPath = path.join(mkdtempSync(path.join(tmpdir(), 'vidpipe-bench-db-')), 'burst.db');
  const listener = await startListener(dbPath);
  let figures: LoadFigures;
  const acked = new Set<string>();
  try {
    figures = await runLoad({
      onAck: collectEventId(acked),
      url: `${listener.url}${PATH}`,
      connections: 100,
      amount: events,
      overallRate: ratePerSec,
      headers: HEADERS,
      body: completeBodyFactory('burst'),
      timeoutSec: 5,
    });
  } finally {
    await listener.stop();
  }
  return {
    events,
    ratePerSec,
    figures,
    allAcknowledged: acked.size === events && figures.errors === 0 && figures.timeouts === 0,
    maxLatencyUnder5s: figures.max < 5000,
    storedExactlyOnce: storedExactlyOnce(dbPath, 'burst-', acked),
  };
}
