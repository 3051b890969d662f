/**
 * Issue 11 item 5: the original endpoint's own curl test body is accepted as the test event it is — an ISO date-time
 * without a zone (UTC), an output group without a type, a plain path — and what is not a date or a path is still
 * refused with a 400 naming the field. Real listener, real HTTP, real SQLite file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, post, startTestListener, tableCounts, type Body } from '../helpers/listener.js';

/** Byte for byte the body of the original system's curl test (README, "the hand-written test body"). */
const SEED_BODY =
  '{"detail": {"status": "COMPLETE", "outputGroupDetails": [{"outputDetails": [{"outputFilePaths": ["/path/to/video.mp4"]}]}], "queue": "MyQueue", "timestamp": "2024-03-14T12:00:00", "jobId": "123456"}}';

describe("the seed's curl test body", () => {
  let l: Awaited<ReturnType<typeof startTestListener>>;
  beforeAll(async () => {
    l = await startTestListener();
  });
  afterAll(async () => l.cleanup());

  it('is accepted, read as UTC, and its untyped plain-path output is on the job', async () => {
    const res = await post(l.url, SEED_BODY);
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ status: 'processed', jobId: '123456' });
    const again = await post(l.url, SEED_BODY);
    expect(again.json).toMatchObject({ status: 'duplicate', jobId: '123456' });

    const { status, json } = await get(l.url, '/api/videos/123456');
    expect(status).toBe(200);
    expect(json.video).toMatchObject({
      status: 'COMPLETE',
      queue: 'MyQueue',
      // 12:00 UTC whatever the listener's time zone: a zone-less ISO date-time is not local time.
      statusAt: Date.UTC(2024, 2, 14, 12, 0, 0),
      outputs: [{ group: 'UNTYPED', kind: 'video', uri: '/path/to/video.mp4' }],
    });
    expect(json.events).toHaveLength(1);
  });

  const seed = (): Body => JSON.parse(SEED_BODY) as Body;
  const cases: Array<[string, (b: Body) => void, RegExp]> = [
    ['a date that does not exist', (b) => (b.detail.timestamp = '2024-02-30T12:00:00'), /body\.detail\.timestamp is not a valid date/],
    ['an hour that does not exist', (b) => (b.detail.timestamp = '2024-03-14T24:00:00'), /body\.detail\.timestamp is not a valid date/],
    ['a date without a time', (b) => (b.detail.timestamp = '2024-03-14'), /body\.detail\.timestamp must be an ISO 8601 date-time/],
    ['not a date at all', (b) => (b.detail.timestamp = 'yesterday'), /body\.detail\.timestamp must be an ISO 8601 date-time/],
    ['a fraction of a millisecond', (b) => (b.detail.timestamp = 1710417600000.5), /body\.detail\.timestamp must be whole epoch milliseconds/],
    ['a relative path', (b) => (b.detail.outputGroupDetails[0].outputDetails[0].outputFilePaths = ['video.mp4']), /outputFilePaths\.0 must be an s3:\/\/ URI .* or an absolute path/],
    ['a URL of another scheme', (b) => (b.detail.outputGroupDetails[0].outputDetails[0].outputFilePaths = ['https://example.com/v.mp4']), /outputFilePaths\.0 must be an s3:\/\/ URI/],
    ['a protocol-relative URL', (b) => (b.detail.outputGroupDetails[0].outputDetails[0].outputFilePaths = ['//example.com/v.mp4']), /outputFilePaths\.0 must be an s3:\/\/ URI/],
    ['a path with a control character', (b) => (b.detail.outputGroupDetails[0].outputDetails[0].outputFilePaths = ['/a\nb.mp4']), /outputFilePaths\.0 must be an s3:\/\/ URI/],
    ['an empty group type', (b) => (b.detail.outputGroupDetails[0].type = ''), /outputGroupDetails\.0\.type must NOT have fewer than 1 characters/],
  ];
  for (const [what, change, message] of cases)
    it(`still refuses ${what} (400 naming the field, nothing stored)`, async () => {
      const body = seed();
      body.detail.jobId = 'refused-1';
      change(body);
      const before = tableCounts(l.db);
      const res = await post(l.url, body);
      expect(res.status, res.text).toBe(400);
      expect(res.json.message).toMatch(message);
      expect(tableCounts(l.db)).toEqual(before);
    });

  it('reads a zone-less date-time as UTC and an offset as that offset', async () => {
    const body = seed();
    body.detail.jobId = 'offset-1';
    body.detail.timestamp = '2024-03-14T14:30:00.250+02:30';
    expect((await post(l.url, body)).status).toBe(200);
    expect((await get(l.url, '/api/videos/offset-1')).json.video.statusAt).toBe(Date.UTC(2024, 2, 14, 12, 0, 0, 250));
  });
});
