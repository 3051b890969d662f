import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VidpipeError } from '../../src/errors.js';
import { migrate, openDatabase, schemaVersion } from '../../src/store/sqlite/db.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations/index.js';
import { createQueries } from '../../src/store/sqlite/queries.js';
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

  it('migration 001 creates the inbox, jobs, posts and outbox tables', () => {
    const db = openDatabase(file(), { migrations: MIGRATIONS.slice(0, 1) });
    expect(schemaVersion(db)).toBe(1);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
    expect(tables).toEqual(['inbox', 'jobs', 'outbox', 'posts']);
    // The outbox references jobs: a notification for an unknown job is refused.
    expect(() => db.prepare("INSERT INTO outbox (job_id, kind, event_id, next_attempt_at, created_at) VALUES ('nope', 'COMPLETE', 'e', 0, 0)").run()).toThrow(/FOREIGN KEY/);
    db.close();
  });

  it('migration 002 rebuilds the job indexes ascending, keeping the rows, and the newest-first listing uses them', () => {
    const f = file();
    const v1 = openDatabase(f, { migrations: MIGRATIONS.slice(0, 1) });
    const insert = v1.prepare(
      "INSERT INTO jobs (job_id, status, status_at, status_event, first_event_at, last_event_at, updated_at) VALUES (?, 'COMPLETE', 0, 'COMPLETE', ?, ?, 0)",
    );
    for (let i = 0; i < 5; i++) insert.run(`j${i}`, i, i);
    expect((v1.prepare("SELECT sql FROM sqlite_master WHERE name = 'jobs_recent'").get() as { sql: string }).sql).toMatch(/DESC/);
    v1.close();

    const db = openDatabase(f, { migrations: MIGRATIONS.slice(0, 2) });
    expect(schemaVersion(db)).toBe(2);
    for (const name of ['jobs_recent', 'jobs_status'])
      expect((db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(name) as { sql: string }).sql).not.toMatch(/DESC/);
    expect((db.prepare('SELECT COUNT(*) AS n FROM jobs').get() as { n: number }).n).toBe(5);
    const plan = db.prepare("EXPLAIN QUERY PLAN SELECT * FROM jobs WHERE status = 'COMPLETE' ORDER BY first_event_at DESC, job_id DESC LIMIT 3").all() as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING INDEX jobs_status/);
    expect(plan.map((p) => p.detail).join(' ')).not.toMatch(/TEMP B-TREE/);
    db.close();
  });

  it('migration 003 puts the ordering columns in jobs_post: the newest job of a post is read from the index, with no sort', () => {
    const f = file();
    const v2 = openDatabase(f, { migrations: MIGRATIONS.slice(0, 2) });
    const insert = v2.prepare(
      "INSERT INTO jobs (job_id, status, status_at, status_event, post_id, first_event_at, last_event_at, updated_at) VALUES (?, 'COMPLETE', 0, 'COMPLETE', ?, ?, ?, 0)",
    );
    for (const [id, post, at] of [['a', 'p1', 5], ['b', 'p1', 9], ['c', 'p1', 9], ['d', 'p2', 20]] as const) insert.run(id, post, at, at);
    const before = v2.prepare('EXPLAIN QUERY PLAN SELECT job_id FROM jobs WHERE post_id = ? ORDER BY first_event_at DESC, job_id DESC LIMIT 1').all('p1') as { detail: string }[];
    expect(before.map((p) => p.detail).join(' ')).toMatch(/TEMP B-TREE/);
    v2.close();

    const db = openDatabase(f, { migrations: MIGRATIONS.slice(0, 3) });
    expect(schemaVersion(db)).toBe(3);
    const query = 'SELECT job_id FROM jobs WHERE post_id = ? ORDER BY first_event_at DESC, job_id DESC LIMIT 1';
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${query}`).all('p1') as { detail: string }[]).map((p) => p.detail).join(' ');
    expect(plan).toMatch(/USING COVERING INDEX jobs_post/);
    expect(plan).not.toMatch(/TEMP B-TREE/);
    // Newest first_event_at wins, ties by job id; the rows are kept.
    expect(db.prepare(query).get('p1')).toEqual({ job_id: 'c' });
    expect((db.prepare('SELECT COUNT(*) AS n FROM jobs').get() as { n: number }).n).toBe(4);
    db.close();
  });

  it('migration 006 drops the posts table; a post is then read from its newest job, the same as before', () => {
    const f = file();
    const v5 = openDatabase(f, { migrations: MIGRATIONS.slice(0, 5) });
    const insert = v5.prepare(
      "INSERT INTO jobs (job_id, status, status_at, status_event, post_id, first_event_at, last_event_at, updated_at) VALUES (?, ?, 0, ?, 'p1', ?, ?, ?)",
    );
    insert.run('old', 'COMPLETE', 'COMPLETE', 5, 5, 50);
    insert.run('new', 'PROGRESSING', 'PROGRESSING', 9, 9, 90);
    v5.prepare("INSERT INTO posts (post_id, job_id, video_status, updated_at) VALUES ('p1', 'new', 'processing', 90)").run();
    v5.close();

    const db = openDatabase(f);
    expect(schemaVersion(db)).toBe(6);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'posts'").get()).toBeUndefined();
    expect(createQueries(db).getPost('p1')).toEqual({ postId: 'p1', jobId: 'new', videoStatus: 'processing', videoUrl: null, thumbnailUrl: null, updatedAt: 90 });
    expect(createQueries(db).getPost('p2')).toBeUndefined();
    expect((db.prepare('SELECT COUNT(*) AS n FROM jobs').get() as { n: number }).n).toBe(2);
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
    expect((error as Error).message).toMatch(new RegExp(`schema version 99, newer than this vidpipe understands \\(${MIGRATIONS.at(-1)?.version}\\)`));
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
