/**
 * Opens the listener's SQLite database: WAL, synchronous=FULL (a committed transaction survives power loss, so a 2xx
 * is never sent for an event that could be lost), a short busy timeout, foreign keys; then runs pending migrations.
 * Migrations are numbered and tracked by PRAGMA user_version (ARCHITECTURE convention 10, after Signal-Desktop).
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { UsageError, VidpipeError } from '../../errors.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';

export type Db = Database.Database;

export interface OpenDatabaseOptions {
  /** Milliseconds a statement waits for another connection's lock. The writer runs on the event loop, so keep it
   * short: EventBridge times out after 5 s, and a 503 makes it retry. */
  busyTimeoutMs?: number;
  migrations?: readonly Migration[];
  /** Create a missing parent directory (only for the default location; elsewhere a missing directory is an error). */
  createDirectory?: boolean;
  /** SQLite's page cache for this connection, in MiB (default READER_CACHE_MIB). */
  cacheMiB?: number;
}

export function openDatabase(file: string, options: OpenDatabaseOptions = {}): Db {
  if (file !== ':memory:') {
    const dir = path.dirname(path.resolve(file));
    if (!existsSync(dir)) {
      if (!options.createDirectory)
        throw new UsageError('DB_DIR_MISSING', `The directory ${dir} for the database ${file} does not exist.`, {
          hint: `Create it (mkdir -p ${dir}) or pass another path with --db PATH (env VIDPIPE_DB).`,
        });
      mkdirSync(dir, { recursive: true });
    }
  }
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
    setPageCache(db, options.cacheMiB ?? READER_CACHE_MIB);
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

/**
 * Page cache: SQLite's default 2 MiB for readers, 8 MiB for the connection that commits the batches (the writer
 * thread's, or the store's own when commits run inline), whose batches touch the same index pages again and again.
 * 32 MiB on both connections was measured (issue 17, 30,000 events at 20 connections, 2 runs each): no faster than
 * 8 or 2 MiB, and 23–36 MiB more RSS.
 */
export const READER_CACHE_MIB = 2;
export const WRITER_CACHE_MIB = 8;

export function setPageCache(db: Db, mib: number): void {
  db.pragma(`cache_size = -${mib * 1024}`);
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

/**
 * Runs every pending migration in ONE transaction: a failure leaves the database as it was. The version is read
 * again inside BEGIN IMMEDIATE (which takes the write lock): two listeners started at once on a fresh file would
 * otherwise both see version 0 and the second would fail with "table inbox already exists".
 */
export function migrate(db: Db, migrations: readonly Migration[], file = 'the database'): number {
  refuseNewer(db, migrations, file);
  if (schemaVersion(db) >= (migrations.at(-1)?.version ?? 0)) return schemaVersion(db);
  return db
    .transaction(() => {
      refuseNewer(db, migrations, file);
      const current = schemaVersion(db);
      for (const m of migrations.filter((x) => x.version > current)) {
        m.up(db);
        db.pragma(`user_version = ${m.version}`);
      }
      return schemaVersion(db);
    })
    .immediate();
}
