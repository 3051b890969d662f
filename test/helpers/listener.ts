/** Helpers for the listener's tests: fixtures, event builders, a listener on a free port with a temp database. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startListener, type ListenerOptions, type RunningListener } from '../../src/listener/server.js';
import type { Db } from '../../src/store/sqlite/db.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

export const LISTENER_PATH = '/aws/listener/eventbridge/video';
export const TEST_KEY = 'test-key-0123456789';

/** What an API destination sends besides the auth header (aws-facts.md §1.1). */
export const EVENTBRIDGE_HEADERS = {
  'user-agent': 'Amazon/EventBridge/ApiDestinations',
  'content-type': 'application/json; charset=utf-8',
  range: 'bytes=0-1048575',
  'accept-encoding': 'gzip,deflate',
  connection: 'close',
};

const fixturesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'events');

export type Body = Record<string, any>;

export function fixture(name: string): Body {
  return JSON.parse(readFileSync(path.join(fixturesDir, `${name}.json`), 'utf8')) as Body;
}

export const FIXTURE_NAMES = [
  'complete-file-group',
  'complete-hls-group',
  'complete-frame-capture',
  'complete-dash-cmaf',
  'error',
  'progressing',
  'status-update',
  'input-information',
  'new-warning',
  'queue-hop',
  'canceled',
] as const;

let counter = 0;

/** A fixture turned into a distinct event: its own id, and the job, status, time and post given. */
export function makeEvent(
  name: string,
  o: { id?: string; jobId?: string; timestamp?: number | string; postId?: string; status?: string; source?: string } = {},
): Body {
  const e = fixture(name);
  e.id = o.id ?? `evt-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
  if (o.jobId) e.detail.jobId = o.jobId;
  if (o.timestamp !== undefined) e.detail.timestamp = o.timestamp;
  if (o.status) e.detail.status = o.status;
  if (o.source) e.source = o.source;
  if (o.postId) e.detail.userMetadata = { ...(e.detail.userMetadata ?? {}), postId: o.postId };
  return e;
}

export function tempDir(prefix = 'vidpipe-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export type TestListener = RunningListener & {
  /** The SQLite file (SQLite listeners only). */
  dbPath: string;
  /** The reader connection, for assertions in SQL (SQLite listeners only). */
  db: Db;
  cleanup(): Promise<void>;
};

/** A listener on a free port. `dbPath` (SQLite, default a temp file) or `database` (any location) picks the store. */
export async function startTestListener(overrides: Partial<ListenerOptions> & { dbPath?: string } = {}): Promise<TestListener> {
  const tmp = tempDir();
  const { dbPath: givenPath, ...rest } = overrides;
  const dbPath = givenPath ?? path.join(tmp.dir, 'vidpipe.db');
  const server = await startListener({
    port: 0,
    host: '127.0.0.1',
    database: dbPath,
    auth: { header: 'x-api-key', apiKeys: [TEST_KEY], insecure: false },
    processedSources: ['vidpipe.simulator'],
    logLevel: 'silent',
    ...rest,
  });
  const l = Object.assign(server, {
    dbPath,
    async cleanup() {
      await server.close();
      tmp.cleanup();
    },
  });
  // A getter (Object.assign would read it at once): only SQLite listeners have a connection to hand out.
  Object.defineProperty(l, 'db', {
    get(): Db {
      if (server.store.engine !== 'sqlite') throw new Error('l.db: this listener is not on SQLite');
      return (server.store as SqliteStore).db;
    },
  });
  return l as TestListener;
}

export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = { ...EVENTBRIDGE_HEADERS, 'x-api-key': TEST_KEY },
): Promise<{ status: number; headers: Headers; json: any; text: string }> {
  const res = await fetch(`${url}${LISTENER_PATH}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

export async function get(url: string, pathname: string, headers: Record<string, string> = { 'x-api-key': TEST_KEY }) {
  const res = await fetch(`${url}${pathname}`, { headers });
  return { status: res.status, headers: res.headers, json: (await res.json()) as any };
}

/** Row counts of every table: "nothing was written" means these do not change. */
export function tableCounts(db: Db): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of ['inbox', 'jobs', 'outbox', 'forwards']) out[t] = (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
  return out;
}
