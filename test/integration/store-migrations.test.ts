import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VidpipeError } from '../../src/errors.js';
import { migrate, openDatabase, schemaVersion } from '../../src/store/db.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { tempDir } from '../helpers/listener.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const file = () => path.join(tmp.dir, `db-${++n}.db`);

describe('openDatabase', () => {
  it('sets WAL, synchronous=FULL, foreign keys and a busy timeout', () => {
    const db = openDatabase(file());
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(1000);
    db.close();
  });

  it('migration 001 creates the inbox, jobs, posts and outbox tables at version 1', () => {
    const db = openDatabase(file());
    expect(schemaVersion(db)).toBe(1);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
    expect(tables).toEqual(['inbox', 'jobs', 'outbox', 'posts']);
    // The outbox references jobs: a notification for an unknown job is refused.
    expect(() => db.prepare("INSERT INTO outbox (job_id, kind, event_id, next_attempt_at, created_at) VALUES ('nope', 'COMPLETE', 'e', 0, 0)").run()).toThrow(/FOREIGN KEY/);
    db.close();
  });

  it('is idempotent: reopening runs nothing', () => {
    const f = file();
    openDatabase(f).close();
    const db = openDatabase(f);
    expect(schemaVersion(db)).toBe(MIGRATIONS.at(-1)?.version);
    db.close();
  });

  it('refuses a database from a newer vidpipe, with a hint, and leaves it untouched', () => {
    const f = file();
    const raw = new Database(f);
    raw.pragma('user_version = 99');
    raw.close();
    const before = readFileSync(f);
    let error: unknown;
    try {
      openDatabase(f);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(VidpipeError);
    expect(error).toMatchObject({ code: 'DB_TOO_NEW', exitCode: 2, hint: expect.stringMatching(/Upgrade vidpipe/) });
    expect((error as Error).message).toMatch(/schema version 99, newer than this vidpipe understands \(1\)/);
    expect(readFileSync(f).equals(before)).toBe(true);
  });

  it('runs all pending migrations in one transaction: a failing one rolls back the others', () => {
    const db = new Database(file());
    const broken = [
      { version: 1, name: 'ok', up: (d: Database.Database) => d.exec('CREATE TABLE a (x)') },
      { version: 2, name: 'broken', up: (d: Database.Database) => d.exec('CREATE TABLE a (x)') },
    ];
    expect(() => migrate(db, broken)).toThrow(/already exists/);
    expect(schemaVersion(db)).toBe(0);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'a'").get()).toBeUndefined();
    db.close();
  });

  it('says what to do with a file that is not a database', () => {
    const f = file();
    writeFileSync(f, 'not sqlite at all, just text that is long enough to be read as a header..........');
    expect(() => openDatabase(f)).toThrow(expect.objectContaining({ code: 'DB_OPEN_FAILED', hint: expect.stringMatching(/--db PATH/) }));
  });
});
