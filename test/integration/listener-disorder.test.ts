/**
 * Disorder through the real write path: a job's life sent shuffled and with duplicates ends in the same job, post and
 * outbox state as the same life sent in order — the check the simulator's tests make against a live listener.
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTBRIDGE_HEADERS, TEST_KEY, get, makeEvent, post, startTestListener, type Body } from '../helpers/listener.js';
import { testPostgres } from '../helpers/postgres.js';

// Over HTTP on each store: a SQLite file, and PostgreSQL (a schema of its own).
const pgServer = await testPostgres();
afterAll(async () => pgServer?.cleanup());
const stores: Array<{ name: string; database?: () => string }> = [{ name: 'sqlite' }, ...(pgServer ? [{ name: 'postgresql', database: () => pgServer.freshUrl('disorder') }] : [])];

const T = 1_700_000_000_000;

function life(jobId: string, postId: string): Body[] {
  const e = (name: string, dt: number, extra: Record<string, unknown> = {}) => {
    const body = makeEvent(name, { jobId, timestamp: T + dt, postId });
    Object.assign(body.detail, extra);
    return body;
  };
  return [
    e('progressing', 0),
    e('input-information', 1),
    e('status-update', 2, { jobProgress: { jobPercentComplete: 30, currentPhase: 'TRANSCODING' } }),
    e('new-warning', 3),
    e('status-update', 4, { jobProgress: { jobPercentComplete: 80, currentPhase: 'UPLOADING' } }),
    e('complete-frame-capture', 5),
  ];
}

function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 48271) % 2147483647;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** The observable state, with the job- and post-specific names taken out so two runs compare equal. */
async function finalState(url: string, jobId: string, postId: string) {
  const { json } = await get(url, `/api/videos/${jobId}`);
  const { json: p } = await get(url, `/api/posts/${postId}`);
  // Event ids differ from one life to the next: compare which status won, not which id carried it.
  const { jobId: _j, postId: _p, userMetadata: _u, statusEventId: _s, ...video } = json.video;
  video.terminalEvents = video.terminalEvents.map(({ eventId: _e, ...t }: { eventId: string }) => t);
  return {
    video,
    events: json.events.map((e: { status: string; detailTimestamp: number }) => [e.status, e.detailTimestamp]),
    notifications: json.notifications.map((n: { kind: string; state: string }) => [n.kind, n.state]),
    post: { videoStatus: p.post.videoStatus, videoUrl: p.post.videoUrl, thumbnailUrl: p.post.thumbnailUrl },
  };
}

describe.each(stores)('out-of-order and duplicated delivery ($name)', (store) => {
  let l: Awaited<ReturnType<typeof startTestListener>>;
  let logText = '';
  beforeAll(async () => {
    const logs = new PassThrough();
    logs.on('data', (c) => (logText += c));
    l = await startTestListener({ logLevel: 'debug', logStream: logs, ...(store.database ? { database: store.database() } : {}) });
  });
  afterAll(async () => l.cleanup());

  it('ends in the same state whatever the order, with every event sent twice', async () => {
    for (const e of life('ordered', 'post-ordered')) expect((await post(l.url, e)).status).toBe(200);
    const expected = await finalState(l.url, 'ordered', 'post-ordered');
    expect(expected.video).toMatchObject({ status: 'COMPLETE', progress: 100, currentPhase: null, eventCount: 6 });
    expect(expected.post.videoStatus).toBe('ready');

    for (let seed = 1; seed <= 12; seed++) {
      const events = life(`shuffled-${seed}`, `post-shuffled-${seed}`);
      const sends = shuffle([...events, ...events], seed);
      // Half one by one, half concurrently: duplicates land in the same batch too.
      const half = sends.length / 2;
      for (const e of sends.slice(0, half)) expect((await post(l.url, e)).status).toBe(200);
      const rest = await Promise.all(sends.slice(half).map((e) => post(l.url, e)));
      expect(rest.every((r) => r.status === 200)).toBe(true);
      expect(await finalState(l.url, `shuffled-${seed}`, `post-shuffled-${seed}`), `seed ${seed}`).toEqual(expected);
    }
  });

  it('a late INPUT_INFORMATION after COMPLETE adds its details without reopening the job', async () => {
    const [progressing, input, , , , complete] = life('late-input', 'post-late') as Body[];
    for (const e of [progressing, complete, input]) await post(l.url, e);
    const { json } = await get(l.url, '/api/videos/late-input');
    expect(json.video).toMatchObject({ status: 'COMPLETE', inputUri: 's3://amzn-s3-demo-bucket/file/file.mp4', progress: 100 });
    expect(json.notifications).toHaveLength(1);
  });

  it('logs neither the API key nor the authorization header, even at debug level', async () => {
    await post(l.url, makeEvent('progressing'), { ...EVENTBRIDGE_HEADERS, 'x-api-key': TEST_KEY });
    await post(l.url, makeEvent('progressing'), { ...EVENTBRIDGE_HEADERS, authorization: 'Basic c2VjcmV0OnNlY3JldA==' });
    expect(logText).toContain('event processed');
    expect(logText).not.toContain(TEST_KEY);
    expect(logText).not.toContain('c2VjcmV0OnNlY3JldA');
  });
});
