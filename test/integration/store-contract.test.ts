/**
 * The store port's contract, run against every adapter: a real SQLite file and a real PostgreSQL server (a schema of
 * its own per test). What the core, the read API and the notifier rely on holds on both.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { normaliseEvent } from '../../src/events/normalise.js';
import { ingestEvent } from '../../src/listener/core/ingest.js';
import { BadCursorError, type ListenerStore } from '../../src/listener/core/store-port.js';
import { openStore, parseDatabaseLocation } from '../../src/store/open-store.js';
import { makeEvent, tempDir, type Body } from '../helpers/listener.js';
import { schemaOf, testPostgres } from '../helpers/postgres.js';

const server = await testPostgres();
const tmp = tempDir();
afterAll(async () => {
  await server?.cleanup();
  tmp.cleanup();
});
let n = 0;

interface Engine {
  name: string;
  /** A new, empty database location. */
  location(): string;
  /** Marks the location's schema as made by a newer vidpipe. */
  makeTooNew(location: string): Promise<void>;
}

const engines: Engine[] = [
  {
    name: 'sqlite',
    location: () => path.join(tmp.dir, `contract-${++n}.db`),
    async makeTooNew(location) {
      const db = new Database(location);
      db.pragma('user_version = 99');
      db.close();
    },
  },
  ...(server
    ? [
        {
          name: 'postgresql',
          location: () => server.freshUrl('contract'),
          async makeTooNew(location: string) {
            await server.query(schemaOf(location), 'UPDATE schema_version SET version = 99');
          },
        },
      ]
    : []),
];

const opened: ListenerStore[] = [];
afterAll(async () => {
  for (const s of opened) await s.close().catch(() => undefined);
});

async function open(location: string, options: { skipNotificationsReason?: string; forwardEvents?: boolean } = {}): Promise<ListenerStore> {
  const store = await openStore(parseDatabaseLocation(location), { writer: 'inline', ...options });
  opened.push(store);
  return store;
}

const ev = (body: Body) => normaliseEvent(body, { processedSources: ['vidpipe.simulator'] });
const ingest = (store: ListenerStore, body: Body) => ingestEvent(ev(body), { store }, JSON.stringify(body));

describe.each(engines)('store contract: $name', (engine) => {
  it('stores an event once: processed, then duplicate; another source is recorded and ignored, with a reason', async () => {
    const location = engine.location();
    const store = await open(location);
    const body = makeEvent('complete-hls-group', { jobId: 'c-1', postId: 'p-1' });
    expect(await ingest(store, body)).toEqual({ status: 'processed', eventId: body.id, jobId: 'c-1' });
    expect(await ingest(store, body)).toMatchObject({ status: 'duplicate', eventId: body.id, jobId: 'c-1', reason: expect.stringMatching(/already stored/) });
    // A redelivery the store does not remember in memory is still recognised, by the inbox.
    const other = await open(location);
    expect(await ingest(other, body)).toMatchObject({ status: 'duplicate', jobId: 'c-1' });
    const foreign = makeEvent('progressing', { source: 'someone.else', jobId: 'c-ignored' });
    expect(await ingest(store, foreign)).toMatchObject({ status: 'ignored', jobId: null, reason: expect.stringMatching(/source "someone.else"/) });
    expect(await store.getJob('c-ignored')).toBeUndefined();
    expect((await store.getJob('c-1'))?.status).toBe('COMPLETE');
  });

  it('the same id twice at once: one processed, one duplicate, the job counted once', async () => {
    const store = await open(engine.location());
    const body = makeEvent('progressing', { jobId: 'c-twice' });
    const results = await Promise.all([ingest(store, body), ingest(store, body), ingest(store, body)]);
    expect(results.map((r) => r.status).sort()).toEqual(['duplicate', 'duplicate', 'processed']);
    expect((await store.getJob('c-twice'))?.eventCount).toBe(1);
  });

  it('concurrent events of one job end in the state of the sequential fold; the post follows its newest job', async () => {
    const store = await open(engine.location());
    const life = ['progressing', 'input-information', 'status-update', 'new-warning', 'complete-file-group'].map((name, i) =>
      makeEvent(name, { jobId: 'c-life', postId: 'p-life', timestamp: 1_700_000_000_000 + i }),
    );
    await Promise.all(life.map((b) => ingest(store, b)));
    const reference = await open(engine.location());
    for (const b of life) await ingest(reference, b);
    expect(await store.getJob('c-life')).toEqual(await reference.getJob('c-life'));
    // A re-upload: a newer job of the same post takes the post over, even while it is still running.
    await ingest(store, makeEvent('progressing', { jobId: 'c-life-2', postId: 'p-life', timestamp: 1_700_000_001_000 }));
    expect(await store.getPost('p-life')).toMatchObject({ postId: 'p-life', jobId: 'c-life-2', videoStatus: 'processing' });
    // A late event of the older job does not take it back.
    await ingest(store, makeEvent('status-update', { jobId: 'c-life', postId: 'p-life', timestamp: 1_700_000_000_009 }));
    expect((await store.getPost('p-life'))?.jobId).toBe('c-life-2');
  });

  it('a post follows the job that is newest after this batch: a late earlier event hands it back; an event naming no post still updates it', async () => {
    const store = await open(engine.location());
    const t = 1_700_000_100_000;
    await ingest(store, makeEvent('progressing', { jobId: 'r-old', postId: 'p-r', timestamp: t }));
    await ingest(store, makeEvent('progressing', { jobId: 'r-new', postId: 'p-r', timestamp: t + 1000 }));
    expect((await store.getPost('p-r'))?.jobId).toBe('r-new');
    // r-new turns out to have started before r-old (an event from before arrives late): r-old is now the newest job.
    // Two jobs of one post in one batch, too: both land together.
    await Promise.all([
      ingest(store, makeEvent('status-update', { jobId: 'r-new', postId: 'p-r', timestamp: t - 1000 })),
      ingest(store, makeEvent('status-update', { jobId: 'r-old', postId: 'p-r', timestamp: t + 10 })),
    ]);
    expect((await store.getJob('r-new'))?.firstEventAt).toBe(t - 1000);
    expect(await store.getPost('p-r')).toMatchObject({ jobId: 'r-old', videoStatus: 'processing' });
    // An event whose userMetadata names no post still moves the post its job belongs to.
    const bare = makeEvent('complete-file-group', { jobId: 'r-old', timestamp: t + 20 });
    delete bare.detail.userMetadata.postId;
    await ingest(store, bare);
    expect(await store.getPost('p-r')).toMatchObject({ jobId: 'r-old', videoStatus: 'ready' });
  });

  it('keeps the first terminal state and shows a contradicting one as an anomaly', async () => {
    const store = await open(engine.location());
    await ingest(store, makeEvent('complete-file-group', { jobId: 'c-anomaly', timestamp: 1_700_000_000_000 }));
    await ingest(store, makeEvent('error', { jobId: 'c-anomaly', timestamp: 1_700_000_000_500 }));
    const job = await store.getJob('c-anomaly');
    expect(job?.status).toBe('COMPLETE');
    expect(job?.anomalies.map((a) => a.status)).toEqual(['ERROR']);
    expect((await store.notificationsForJob('c-anomaly')).map((x) => x.kind)).toEqual(['COMPLETE']);
  });

  it('lists videos newest first, filters by status, pages with cursors, refuses a cursor it did not make', async () => {
    const store = await open(engine.location());
    for (let i = 0; i < 7; i++)
      await ingest(store, makeEvent(i % 2 ? 'error' : 'progressing', { jobId: `c-list-${i}`, timestamp: 1_700_000_000_000 + (i < 3 ? 0 : i) }));
    const all = [];
    let cursor: string | undefined;
    do {
      const page = await store.listVideos({ limit: 3, ...(cursor ? { cursor } : {}) });
      all.push(...page.videos.map((v) => v.jobId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    // Ties on the first event's time are ordered by job id, descending.
    expect(all).toEqual(['c-list-6', 'c-list-5', 'c-list-4', 'c-list-3', 'c-list-2', 'c-list-1', 'c-list-0']);
    expect((await store.listVideos({ limit: 10, status: 'ERROR' })).videos.map((v) => v.jobId)).toEqual(['c-list-5', 'c-list-3', 'c-list-1']);
    await expect(store.listVideos({ limit: 3, cursor: 'bm90LWEtY3Vyc29y' })).rejects.toBeInstanceOf(BadCursorError);
  });

  it('lists a job’s events in MediaConvert’s order', async () => {
    const store = await open(engine.location());
    await ingest(store, makeEvent('complete-file-group', { jobId: 'c-ev', timestamp: 1_700_000_000_009 }));
    await ingest(store, makeEvent('progressing', { jobId: 'c-ev', timestamp: 1_700_000_000_001 }));
    expect((await store.listJobEvents('c-ev')).map((e) => [e.status, e.detailTimestamp])).toEqual([
      ['PROGRESSING', 1_700_000_000_001],
      ['COMPLETE', 1_700_000_000_009],
    ]);
  });

  it('returns stored event bodies exactly as received, in the order asked, leaving out unknown ids', async () => {
    const store = await open(engine.location());
    const a = makeEvent('progressing', { jobId: 'c-body' });
    a.detail.userMetadata = { ...(a.detail.userMetadata ?? {}), note: '<script>alert(1)</script> é' };
    const b = makeEvent('complete-hls-group', { jobId: 'c-body' });
    const textA = JSON.stringify(a, null, 1);
    await ingestEvent(ev(a), { store }, textA);
    await ingest(store, b);
    const bodies = await store.getEventBodies([b.id, 'no-such-event', a.id]);
    expect(bodies.map((x) => [x.eventId, x.jobId])).toEqual([
      [b.id, 'c-body'],
      [a.id, 'c-body'],
    ]);
    expect(bodies[1]?.body).toBe(textA);
    expect(JSON.parse(bodies[0]?.body ?? 'null')).toEqual(b);
    expect(await store.getEventBodies([])).toEqual([]);
  });

  it('notifications: claimed by one owner under a lease, taken over when it expires, settled only by the holder', async () => {
    const store = await open(engine.location());
    await ingest(store, makeEvent('complete-file-group', { jobId: 'c-n' }));
    const now = Date.now() + 1000;
    const a = await store.claimNotification('a', now, 10_000);
    expect(a).toMatchObject({ jobId: 'c-n', kind: 'COMPLETE', state: 'pending', owner: 'a' });
    expect(await store.claimNotification('b', now + 1, 10_000)).toBeUndefined();
    const b = await store.claimNotification('b', now + 10_001, 10_000);
    expect(b).toMatchObject({ id: a?.id, owner: 'b' });
    // The old holder's answer is refused: the row is b's now.
    expect(await store.settleNotification(a!, { state: 'sent', attempted: true }, now + 10_002)).toBe(false);
    expect(await store.settleNotification(b!, { state: 'retry', at: now + 60_000, error: '503' }, now + 10_003)).toBe(true);
    expect(await store.nextNotificationDueAt()).toBe(now + 60_000);
    expect(await store.claimNotification('b', now + 59_999, 10_000)).toBeUndefined();
    const again = await store.claimNotification('c', now + 60_000, 10_000);
    expect(again).toMatchObject({ attempts: 1, lastError: '503', firstAttemptAt: now + 10_003 });
    expect(await store.settleNotification(again!, { state: 'sent', attempted: true }, now + 60_001)).toBe(true);
    expect((await store.notificationsForJob('c-n'))[0]).toMatchObject({ state: 'sent', attempts: 2, sentAt: now + 60_001, lastError: '503' });
    expect(await store.nextNotificationDueAt()).toBeUndefined();
  });

  it('with nowhere to send, a new notification is stored skipped', async () => {
    const store = await open(engine.location(), { skipNotificationsReason: 'no webhook' });
    await ingest(store, makeEvent('error', { jobId: 'c-skip' }));
    expect((await store.notificationsForJob('c-skip'))[0]).toMatchObject({ state: 'skipped', lastError: 'no webhook', attempts: 0 });
  });

  it('forwards: one row per new event; a job’s later event waits while an earlier one is pending; leased to one owner', async () => {
    const store = await open(engine.location(), { forwardEvents: true });
    const [a1, a2] = [0, 1].map((i) => makeEvent('status-update', { jobId: 'f-a', timestamp: 1_700_000_000_000 + i }));
    const b1 = makeEvent('progressing', { jobId: 'f-b' });
    for (const b of [a1, a2, b1, a1]) await ingest(store, b as Body);
    const now = Date.now() + 1000;
    const first = await store.claimForwards('x', now, 10_000, 10);
    expect(first.map((f) => f.eventId)).toEqual([a1!.id, b1.id]);
    expect(JSON.parse(first[0]!.body).id).toBe(a1!.id);
    expect(await store.claimForwards('y', now, 10_000, 10)).toEqual([]);
    expect(await store.settleForward(first[0]!, { state: 'retry', at: now + 100, error: '500', status: 500 }, now)).toBe(true);
    // a1 is pending again (backing off): a2 still waits behind it.
    expect(await store.claimForwards('y', now + 1, 10_000, 10)).toEqual([]);
    const again = await store.claimForwards('y', now + 100, 10_000, 10);
    expect(again.map((f) => [f.eventId, f.attempts, f.lastStatus])).toEqual([[a1!.id, 1, 500]]);
    expect(await store.settleForward(again[0]!, { state: 'sent', status: 200 }, now + 101)).toBe(true);
    expect((await store.claimForwards('y', now + 102, 10_000, 10)).map((f) => f.eventId)).toEqual([a2!.id]);
    expect((await store.listForwards({ limit: 10, states: ['sent'] })).map((f) => [f.eventId, f.attempts, f.lastError])).toEqual([[a1!.id, 2, '500']]);
  });

  it('leases: one holder, renewed by it, taken over after expiry, released', async () => {
    const store = await open(engine.location());
    expect(await store.acquireLease('sender', 'a', 1000, 100)).toBe(true);
    expect(await store.acquireLease('sender', 'b', 1050, 100)).toBe(false);
    expect(await store.acquireLease('sender', 'a', 1090, 100)).toBe(true);
    expect(await store.acquireLease('sender', 'b', 1189, 100)).toBe(false);
    expect(await store.acquireLease('sender', 'b', 1190, 100)).toBe(true);
    await store.releaseLease('sender', 'b');
    expect(await store.acquireLease('sender', 'a', 1191, 100)).toBe(true);
  });

  it('is ready when it can commit', async () => {
    const store = await open(engine.location());
    expect(await store.readiness()).toEqual({ ready: true });
  });

  it('migrations: two instances opening one fresh database at once both start; a newer schema is refused unchanged', async () => {
    const location = engine.location();
    const [a, b] = await Promise.all([open(location), open(location)]);
    await ingest(a, makeEvent('progressing', { jobId: 'c-m' }));
    expect((await b.getJob('c-m'))?.jobId).toBe('c-m');
    await a.close();
    await b.close();
    await engine.makeTooNew(location);
    await expect(open(location)).rejects.toMatchObject({ code: 'DB_TOO_NEW', exitCode: 2, message: expect.stringMatching(/schema version 99, newer than this vidpipe understands/) });
  });
});
