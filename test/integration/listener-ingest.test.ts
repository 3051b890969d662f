import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EVENTBRIDGE_HEADERS,
  FIXTURE_NAMES,
  TEST_KEY,
  fixture,
  get,
  makeEvent,
  post,
  startTestListener,
  tableCounts,
} from '../helpers/listener.js';

type Listener = Awaited<ReturnType<typeof startTestListener>>;

describe('POST /aws/listener/eventbridge/video', () => {
  let l: Listener;
  beforeAll(async () => {
    l = await startTestListener({ auth: { header: 'x-api-key', apiKeys: [TEST_KEY, 'older-key'], basic: 'eventbridge:s3cret', insecure: false } });
  });
  afterAll(async () => l.cleanup());

  it.each(FIXTURE_NAMES)('accepts the %s sample with EventBridge headers and records it', async (name) => {
    const body = makeEvent(name);
    const res = await post(l.url, body);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'processed', eventId: body.id, jobId: body.detail.jobId });
    const inbox = l.db.prepare('SELECT * FROM inbox WHERE event_id = ?').get(body.id) as Record<string, unknown>;
    expect(JSON.parse(inbox.body as string)).toEqual(body);
    const video = await get(l.url, `/api/videos/${body.detail.jobId}`);
    expect(video.status).toBe(200);
    expect(video.json.events.map((e: { eventId: string }) => e.eventId)).toContain(body.id);
  });

  it('flattens every output-group shape into outputs with duration and resolution', async () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['complete-file-group', { durationMs: 30041, width: 1920, height: 1080, outputs: [{ group: 'FILE_GROUP', kind: 'video', uri: 's3://amzn-s3-demo-bucket/file/file.mp4', durationMs: 30041, width: 1920, height: 1080 }] }],
      [
        'complete-hls-group',
        {
          durationMs: 180041,
          width: 1280,
          height: 720,
          outputs: [
            { group: 'HLS_GROUP', kind: 'playlist', uri: 's3://amzn-s3-demo-bucket/hls/main.m3u8' },
            { group: 'HLS_GROUP', kind: 'rendition', uri: 's3://amzn-s3-demo-bucket/hls/mainv2.m3u8', durationMs: 180041, width: 426, height: 240 },
            { group: 'HLS_GROUP', kind: 'rendition', uri: 's3://amzn-s3-demo-bucket/hls/mainv1.m3u8', durationMs: 180041, width: 1280, height: 720 },
          ],
        },
      ],
      [
        'complete-frame-capture',
        {
          durationMs: 180041,
          outputs: [
            { group: 'FILE_GROUP', kind: 'thumbnail', uri: 's3://DOC-EXAMPLE-BUCKET/frameoutput/file.0000036.jpg', durationMs: 185000, width: 1280, height: 720 },
            { group: 'FILE_GROUP', kind: 'video', uri: 's3://DOC-EXAMPLE-BUCKET/file/file.mp4', durationMs: 180041, width: 1280, height: 720 },
          ],
        },
      ],
      [
        'complete-dash-cmaf',
        {
          outputs: [
            { group: 'DASH_ISO_GROUP', kind: 'playlist', uri: 's3://amzn-s3-demo-bucket/dash/main.mpd' },
            { group: 'CMAF_GROUP', kind: 'playlist', uri: 's3://amzn-s3-demo-bucket/cmaf/main.mpd' },
            { group: 'CMAF_GROUP', kind: 'playlist', uri: 's3://amzn-s3-demo-bucket/cmaf/main.m3u8' },
          ],
        },
      ],
    ];
    for (const [name, expected] of cases) {
      const jobId = `shape-${name}`;
      const body = makeEvent(name, { jobId, postId: `post-${name}` });
      expect((await post(l.url, body)).status).toBe(200);
      const { json } = await get(l.url, `/api/videos/${jobId}`);
      expect(json.video).toMatchObject({ status: 'COMPLETE', progress: 100, ...expected });
      const postRes = await get(l.url, `/api/posts/post-${name}`);
      expect(postRes.json.post.videoStatus).toBe('ready');
    }
    // Post URLs: the HLS playlist when there is one, else the MP4; the thumbnail from frame capture.
    expect((await get(l.url, '/api/posts/post-complete-hls-group')).json.post).toMatchObject({ videoUrl: 's3://amzn-s3-demo-bucket/hls/main.m3u8', thumbnailUrl: null });
    expect((await get(l.url, '/api/posts/post-complete-frame-capture')).json.post).toMatchObject({
      videoUrl: 's3://DOC-EXAMPLE-BUCKET/file/file.mp4',
      thumbnailUrl: 's3://DOC-EXAMPLE-BUCKET/frameoutput/file.0000036.jpg',
    });
    expect((await get(l.url, '/api/posts/post-complete-dash-cmaf')).json.post.videoUrl).toBe('s3://amzn-s3-demo-bucket/cmaf/main.m3u8');
  });

  it('records every status on the job: error, progress, input, warning, queue hop, cancel', async () => {
    const jobId = 'statuses-1';
    const t = 1_700_000_000_000;
    for (const [name, dt] of [['queue-hop', 0], ['progressing', 1], ['input-information', 2], ['status-update', 3], ['new-warning', 4]] as const)
      expect((await post(l.url, makeEvent(name, { jobId, timestamp: t + dt, postId: 'p-statuses' }))).status).toBe(200);
    let { json } = await get(l.url, `/api/videos/${jobId}`);
    expect(json.video).toMatchObject({
      status: 'PROGRESSING',
      progress: 7,
      currentPhase: 'TRANSCODING',
      inputUri: 's3://amzn-s3-demo-bucket/file/file.mp4',
      warnings: [{ code: '000000', message: 'Example warning message' }],
      queue: 'arn:aws:mediaconvert:us-west-2:111122223333:queues/Default',
      postId: 'p-statuses',
      firstEventAt: t,
      lastEventAt: t + 4,
      eventCount: 5,
    });
    expect((await get(l.url, '/api/posts/p-statuses')).json.post.videoStatus).toBe('processing');
    expect((await post(l.url, makeEvent('error', { jobId, timestamp: t + 5, postId: 'p-statuses' }))).status).toBe(200);
    ({ json } = await get(l.url, `/api/videos/${jobId}`));
    // A finished job reports no phase in progress (the STATUS_UPDATE's TRANSCODING is history).
    expect(json.video).toMatchObject({ status: 'ERROR', errorCode: '1040', errorMessage: 'Example error message', currentPhase: null });
    expect(json.notifications).toMatchObject([{ kind: 'ERROR', state: expect.any(String) }]);
    expect((await get(l.url, '/api/posts/p-statuses')).json.post).toMatchObject({ videoStatus: 'failed', videoUrl: null });

    expect((await post(l.url, makeEvent('canceled', { jobId: 'canceled-1', postId: 'p-canceled' }))).status).toBe(200);
    expect((await get(l.url, '/api/videos/canceled-1')).json.video.status).toBe('CANCELED');
    expect((await get(l.url, '/api/posts/p-canceled')).json.post.videoStatus).toBe('failed');
  });

  it('accepts the original curl body and recognises its repeat by a content-derived id', async () => {
    const body = fixture('curl-body');
    const first = await post(l.url, body, { 'content-type': 'application/json', 'x-api-key': TEST_KEY });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ status: 'processed', jobId: '1671476818694-curl01' });
    expect(first.json.eventId).toMatch(/^test-[0-9a-f]{64}$/);
    // The same content with keys in another order is the same test event.
    const reordered = { detail: Object.fromEntries(Object.entries(body.detail).reverse()) };
    const second = await post(l.url, reordered, { 'content-type': 'application/json', 'x-api-key': TEST_KEY });
    expect(second.json).toEqual({ status: 'duplicate', eventId: first.json.eventId, jobId: '1671476818694-curl01', reason: expect.stringMatching(/already stored/) });
    expect((await get(l.url, '/api/posts/42')).json.post).toMatchObject({ videoStatus: 'ready', videoUrl: 's3://vidpipe-output/posts/42/video.mp4' });
  });

  it('answers a redelivered event `duplicate` and changes nothing', async () => {
    const body = makeEvent('status-update', { jobId: 'dup-1' });
    expect((await post(l.url, body)).json.status).toBe('processed');
    const before = tableCounts(l.db);
    const job = l.db.prepare('SELECT * FROM jobs WHERE job_id = ?').get('dup-1');
    const again = await post(l.url, { ...body, detail: { ...body.detail, jobProgress: { jobPercentComplete: 99 } } });
    expect(again.json).toEqual({ status: 'duplicate', eventId: body.id, jobId: 'dup-1', reason: expect.stringMatching(/already stored/) });
    expect(tableCounts(l.db)).toEqual(before);
    expect(l.db.prepare('SELECT * FROM jobs WHERE job_id = ?').get('dup-1')).toEqual(job);
    // A redelivery of an id the listener remembers committing is answered from the id alone, before validation: the
    // stored body is the one that counts (an older id is told apart by the writer, after validation).
    const mangled = await post(l.url, { ...body, detail: 'not an object', time: 'yesterday' });
    expect(mangled.status).toBe(200);
    expect(mangled.json).toMatchObject({ status: 'duplicate', eventId: body.id, jobId: 'dup-1' });
    expect(tableCounts(l.db)).toEqual(before);
    // An unknown id with the same mangled body is still refused, naming the field.
    const unknown = await post(l.url, { ...body, id: 'never-seen', detail: 'not an object' });
    expect(unknown.status).toBe(400);
    expect(unknown.json.message).toMatch(/body\.detail must be object/);
  });

  it('processes one of two copies of a new event that arrive together', async () => {
    const body = makeEvent('progressing', { jobId: 'dup-batch' });
    const results = await Promise.all([post(l.url, body), post(l.url, body), post(l.url, body)]);
    expect(results.map((r) => r.json.status).sort()).toEqual(['duplicate', 'duplicate', 'processed']);
    expect(l.db.prepare('SELECT event_count FROM jobs WHERE job_id = ?').get('dup-batch')).toEqual({ event_count: 1 });
  });

  it('records and ignores events of another source or detail-type', async () => {
    const other = makeEvent('progressing', { jobId: 'ignored-1', source: 'aws.s3' });
    const res = await post(l.url, other);
    expect(res.json).toEqual({ status: 'ignored', eventId: other.id, jobId: null, reason: expect.stringMatching(/not processed/) });
    const foreign = { version: '0', id: 'foreign-1', 'detail-type': 'Object Created', source: 'aws.s3', account: '1', time: '2024-01-01T00:00:00Z', region: 'us-east-1', resources: [], detail: { bucket: { name: 'x' } } };
    expect((await post(l.url, foreign)).json).toEqual({ status: 'ignored', eventId: 'foreign-1', jobId: null, reason: expect.stringMatching(/not processed/) });
    expect(l.db.prepare("SELECT outcome FROM inbox WHERE event_id IN ('foreign-1', ?)").all(other.id)).toEqual([{ outcome: 'ignored' }, { outcome: 'ignored' }]);
    expect(l.db.prepare("SELECT 1 FROM jobs WHERE job_id = 'ignored-1'").get()).toBeUndefined();
    // The simulator's custom source is processed like aws.mediaconvert.
    const sim = makeEvent('progressing', { jobId: 'sim-1', source: 'vidpipe.simulator' });
    expect((await post(l.url, sim)).json.status).toBe('processed');
  });

  describe('auth', () => {
    const body = () => makeEvent('progressing', { jobId: 'auth-1' });
    const noKey = { ...EVENTBRIDGE_HEADERS };

    it('401 without credentials, with WWW-Authenticate for Basic, and writes nothing', async () => {
      const before = tableCounts(l.db);
      const res = await post(l.url, body(), noKey);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="vidpipe"/);
      expect(res.json.error).toBe('unauthorized');
      expect(tableCounts(l.db)).toEqual(before);
    });

    it('401 for a wrong key or wrong Basic password, without echoing it', async () => {
      const before = tableCounts(l.db);
      const wrongKey = await post(l.url, body(), { ...noKey, 'x-api-key': 'not-the-key' });
      expect(wrongKey.status).toBe(401);
      expect(wrongKey.text).not.toContain('not-the-key');
      const wrongBasic = await post(l.url, body(), { ...noKey, authorization: `Basic ${Buffer.from('eventbridge:nope').toString('base64')}` });
      expect(wrongBasic.status).toBe(401);
      expect(tableCounts(l.db)).toEqual(before);
    });

    it('accepts every rotated key and Basic', async () => {
      expect((await post(l.url, body(), { ...noKey, 'x-api-key': TEST_KEY })).status).toBe(200);
      expect((await post(l.url, body(), { ...noKey, 'x-api-key': 'older-key' })).status).toBe(200);
      expect((await post(l.url, body(), { ...noKey, authorization: `Basic ${Buffer.from('eventbridge:s3cret').toString('base64')}` })).status).toBe(200);
    });

    it('guards the read API but not /healthz', async () => {
      expect((await get(l.url, '/api/videos', {})).status).toBe(401);
      expect((await get(l.url, '/healthz', {})).json).toEqual({ status: 'ok' });
      expect((await get(l.url, '/readyz', {})).json).toEqual({ status: 'ready' });
    });
  });

  describe('rejections write nothing', () => {
    const cases: Array<[string, number, () => { body: string; headers?: Record<string, string> }, RegExp]> = [
      ['malformed JSON', 400, () => ({ body: '{"detail": {' }), /json/i],
      ['an empty body', 400, () => ({ body: '' }), /empty|body/i],
      ['a JSON array', 400, () => ({ body: '[]' }), /body must be object/],
      ['no detail', 400, () => ({ body: '{"id":"x"}' }), /body\.detail is required|body\.source is required/],
      ['a missing jobId', 400, () => ({ body: JSON.stringify({ detail: { status: 'COMPLETE', timestamp: 1 } }) }), /body\.detail\.jobId is required/],
      ['an unknown status', 400, () => ({ body: JSON.stringify({ detail: { jobId: 'j', status: 'DONE', timestamp: 1 } }) }), /body\.detail\.status must be one of/],
      ['a bad ISO timestamp', 400, () => ({ body: JSON.stringify({ detail: { jobId: 'j', status: 'COMPLETE', timestamp: '2024-13-45T99:00:00Z' } }) }), /body\.detail\.timestamp/],
      ['half an envelope', 400, () => ({ body: JSON.stringify({ id: 'half', detail: { jobId: 'j', status: 'COMPLETE', timestamp: 1 } }) }), /body\.source is required when id is present/],
      // An absolute path is accepted since issue 11 item 5 (the seed's curl body sends one); another scheme is not.
      ['an output path that is neither s3:// nor absolute', 400, () => {
        const e = makeEvent('complete-file-group');
        e.detail.outputGroupDetails[0].outputDetails[0].outputFilePaths = ['http://example.com/video.mp4'];
        return { body: JSON.stringify(e) };
      }, /body\.detail\.outputGroupDetails\.0\.outputDetails\.0\.outputFilePaths\.0 must be an s3:\/\/ URI/],
      ['prototype poisoning', 400, () => ({ body: '{"detail":{"jobId":"j","status":"COMPLETE","timestamp":1},"__proto__":{"x":1}}' }), /./],
      ['text/plain', 415, () => ({ body: JSON.stringify(makeEvent('progressing')), headers: { 'content-type': 'text/plain' } }), /application\/json/],
      ['form data', 415, () => ({ body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), /application\/json/],
      ['more than 256 KiB', 413, () => {
        const e = makeEvent('progressing');
        e.detail.padding = 'x'.repeat(256 * 1024);
        return { body: JSON.stringify(e) };
      }, /262144 bytes/],
    ];
    it.each(cases)('%s → %i', async (_name, status, make, message) => {
      const before = tableCounts(l.db);
      const { body, headers } = make();
      const res = await post(l.url, body, { ...EVENTBRIDGE_HEADERS, 'x-api-key': TEST_KEY, ...headers });
      expect(res.status).toBe(status);
      expect(res.json.message).toMatch(message);
      expect(tableCounts(l.db)).toEqual(before);
    });

    it('404 for another path, JSON', async () => {
      const res = await fetch(`${l.url}/nope`, { method: 'POST', headers: { 'x-api-key': TEST_KEY } });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: 'not_found' });
    });
  });

  it('503 with Retry-After while another process holds the database, then accepts the retry', async () => {
    const body = makeEvent('progressing', { jobId: 'busy-1' });
    const other = new Database(l.dbPath);
    other.exec('BEGIN EXCLUSIVE');
    try {
      const res = await post(l.url, body);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(res.json).toEqual({ error: 'unavailable', message: 'the database is busy or unavailable; retry later' });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(l.db.prepare('SELECT 1 FROM inbox WHERE event_id = ?').get(body.id)).toBeUndefined();
    expect((await post(l.url, body)).json.status).toBe('processed');
  });
});

describe('read API', () => {
  let l: Listener;
  beforeAll(async () => {
    l = await startTestListener();
    for (let i = 0; i < 7; i++) {
      const status = i % 2 ? 'error' : 'complete-file-group';
      await post(l.url, makeEvent(status, { jobId: `page-${i}`, timestamp: 1_700_000_000_000 + i * 1000, postId: `pp-${i}` }));
    }
  });
  afterAll(async () => l.cleanup());

  it('pages newest first with a cursor and filters by status', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(l.url, `/api/videos?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.json.videos.map((v: { jobId: string }) => v.jobId));
      cursor = res.json.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['page-6', 'page-5', 'page-4', 'page-3', 'page-2', 'page-1', 'page-0']);
    const errors = await get(l.url, '/api/videos?status=ERROR');
    expect(errors.json.videos.map((v: { jobId: string }) => v.jobId)).toEqual(['page-5', 'page-3', 'page-1']);
  });

  it('400 for a bad filter, limit or cursor; 404 for unknown ids', async () => {
    expect((await get(l.url, '/api/videos?status=DONE')).status).toBe(400);
    expect((await get(l.url, '/api/videos?limit=0')).status).toBe(400);
    expect((await get(l.url, '/api/videos?cursor=garbage')).status).toBe(400);
    expect((await get(l.url, '/api/videos/nope')).status).toBe(404);
    expect((await get(l.url, '/api/posts/nope')).status).toBe(404);
  });

  it('shows a post with its video', async () => {
    const res = await get(l.url, '/api/posts/pp-2');
    expect(res.json.post).toMatchObject({ postId: 'pp-2', jobId: 'page-2', videoStatus: 'ready', videoUrl: 's3://amzn-s3-demo-bucket/file/file.mp4' });
    expect(res.json.video.jobId).toBe('page-2');
  });
});
