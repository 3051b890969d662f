/**
 * Opens the listener's SQLite database: WAL, synchronous=FULL (a committed transaction survives power loss, so a 2xx
 * is never sent for an event that could be lost), a short busy timeout, foreign keys; then runs pending migrations.
 * Migrations are numbered and tracked by PRAGMA user_version (ARCHITECTURE convention 10, after Signal-Desktop).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { UsageError, VidpipeError } from '../errors.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';

export type Db = Database.Database;

export interface OpenDatabaseOptions {
  /** Milliseconds a statement waits for another connection's lock. The writer runs on the event loop, so keep it
   * short: EventBridge times out after 5 s, and a 503 makes it retry. */
  busyTimeoutMs?: number;
  migrations?: readonly Migration[];
}

export function openDatabase(file: string, options: OpenDatabaseOptions = {}): Db {
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const migrations = options.migrations ?? MIGRATIONS;
  let db: Db;
  try {
    db = new Database(file);
  } catch (err) {
    throw new UsageError('DB_OPEN_FAILED', `Cannot open the database ${file}: ${(err as Error).message}`, {
      hint: 'Check the path and its permissions, or pass another with --db PATH (env VIDPIPE_DB).',
      cause: err,
    });
  }
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 1000}`);
    // Before anything writes (switching to WAL rewrites the header): a newer database is left exactly as it was.
    refuseNewer(db, migrations, file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    // 32 MiB of page cache (default 2 MiB): the indexes a batch touches stay in memory instead of being re-read.
    db.pragma('cache_size = -32768');
    // Statement journals (one per event: each runs in its own SAVEPOINT) in memory: in a temp file they cost ~11 page
    // writes (4 KiB + 4 B each) per event, ~50 KiB of write() per event that nothing ever reads back or syncs.
    db.pragma('temp_store = MEMORY');
    db.pragma('foreign_keys = ON');
    migrate(db, migrations, file);
  } catch (err) {
    db.close();
    if (err instanceof VidpipeError) throw err;
    throw new UsageError('DB_OPEN_FAILED', `Cannot use the database ${file}: ${(err as Error).message}`, {
      hint: 'Is it a vidpipe SQLite database? Pass another with --db PATH (env VIDPIPE_DB).',
      cause: err,
    });
  }
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function refuseNewer(db: Db, migrations: readonly Migration[], file: string): void {
  const latest = migrations.at(-1)?.version ?? 0;
  const current = schemaVersion(db);
  if (current > latest)
    throw new VidpipeError('DB_TOO_NEW', `${file} has schema version ${current}, newer than this vidpipe understands (${latest}).`, {
      hint: 'Upgrade vidpipe, or point --db at another file. The database was not changed.',
      exitCode: 2,
      details: { schemaVersion: current, supported: latest },
    });
}

/** Runs every pending migration in ONE transaction: a failure leaves the database as it was. */
export function migrate(db: Db, migrations: readonly Migration[], file = 'the database'): number {
  refuseNewer(db, migrations, file);
  const latest = migrations.at(-1)?.version ?? 0;
  const current = schemaVersion(db);
  const pending = migrations.filter((m) => m.version > current);
  if (pending.length === 0) return current;
  db.transaction(() => {
    for (const m of pending) {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }
  }).immediate();
  return latest;
}
