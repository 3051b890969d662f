import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { normaliseEvent } from '../../src/events/normalise.js';
import { BatchWriter } from '../../src/store/batch-writer.js';
import { openDatabase } from '../../src/store/sqlite/db.js';
import { createQueries } from '../../src/store/sqlite/queries.js';
import { fromWire, InlineCommitter, toWire } from '../../src/store/sqlite/sqlite-committer.js';
import { makeEvent, tempDir } from '../helpers/listener.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;

function open(recentIds?: number) {
  const db = openDatabase(path.join(tmp.dir, `w-${++n}.db`));
  const queries = createQueries(db, { skipNotificationsReason: 'test' });
  return { db, writer: new BatchWriter(new InlineCommitter(db, queries), recentIds === undefined ? {} : { recentIds }, 'inline') };
}

const event = (jobId: string) => normaliseEvent(makeEvent('complete-file-group', { jobId }), { processedSources: [] });

describe('events sent to the writer thread as text', () => {
  it.each([
    ['an EventBridge envelope', makeEvent('complete-hls-group')],
    ['a curl-style body', { detail: makeEvent('error').detail }],
    ['an event of another source', makeEvent('progressing', { source: 'someone.else' })],
  ])('%s arrives as the same normalised event, and its text is stored as received', async (_name, body) => {
    const text = JSON.stringify(body, null, 1);
    const event = normaliseEvent(JSON.parse(text), { processedSources: [] });
    const back = fromWire(structuredClone(toWire({ event, text })));
    expect(back).toEqual({ event, text });

    const { db, writer } = open();
    await writer.submit(event, text);
    expect(db.prepare('SELECT body FROM inbox WHERE event_id = ?').pluck().get(event.eventId)).toBe(text);
    await writer.close();
    db.close();
  });
});

describe('BatchWriter: one transaction per batch', () => {
  it('an event that fails is refused alone: the rest of its batch is committed, nothing of it is', async () => {
    const { db, writer } = open();
    // A bug or constraint that hits one event only.
    db.exec("CREATE TRIGGER refuse_bad BEFORE INSERT ON jobs WHEN NEW.job_id = 'job-bad' BEGIN SELECT RAISE(ABORT, 'refused for the test'); END");
    const events = [event('job-ok-1'), event('job-bad'), event('job-ok-2')];
    // Submitted in one tick: one batch.
    const results = await Promise.allSettled(events.map((e) => writer.submit(e)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.message).toMatch(/refused for the test/);
    const stored = db.prepare('SELECT event_id FROM inbox ORDER BY received_at, event_id').pluck().all();
    expect(new Set(stored)).toEqual(new Set([events[0]!.eventId, events[2]!.eventId]));
    expect(db.prepare('SELECT job_id FROM jobs ORDER BY job_id').pluck().all()).toEqual(['job-ok-1', 'job-ok-2']);
    await writer.close();
    db.close();
  });
});

describe('BatchWriter: recently committed ids', () => {
  it('knows an id only once its commit returned, with the job id it was recorded with', async () => {
    const { db, writer } = open();
    const e = event('job-a');
    const pending = writer.submit(e);
    // Queued, not committed: unknown here (the caller then reads the inbox, which does not have it either).
    expect(writer.known(e.eventId)).toBeUndefined();
    expect(await pending).toMatchObject({ status: 'processed', jobId: 'job-a' });
    expect(writer.known(e.eventId)).toEqual({ jobId: 'job-a' });
    expect(writer.known('never-seen')).toBeUndefined();
    await writer.close();
    db.close();
  });

  it('remembers a duplicate outcome too, and forgets the oldest ids beyond its bound', async () => {
    const { db, writer } = open(2);
    const [a, b, c] = [event('job-1'), event('job-2'), event('job-3')];
    await writer.submit(a);
    expect(await writer.submit(a)).toMatchObject({ status: 'duplicate', jobId: 'job-1' });
    await writer.submit(b);
    await writer.submit(c);
    expect(writer.known(a.eventId)).toBeUndefined();
    expect(writer.known(b.eventId)).toEqual({ jobId: 'job-2' });
    expect(writer.known(c.eventId)).toEqual({ jobId: 'job-3' });
    await writer.close();
    db.close();
  });

  it('does not remember events of a batch that failed to commit', async () => {
    const { db, writer } = open();
    const other = openDatabase(db.name);
    other.exec('BEGIN IMMEDIATE');
    const e = event('job-locked');
    await expect(writer.submit(e)).rejects.toThrow(/unavailable/);
    other.exec('ROLLBACK');
    other.close();
    expect(writer.known(e.eventId)).toBeUndefined();
    await writer.close();
    db.close();
  });
});
