/**
 * Issue 11 item 4: schema-valid input never gets a 500 and is never changed silently. Numbers the store cannot keep
 * exactly (a fraction in an INTEGER column, 1e300, 2^53 + 1, 1e400) are a 400 naming the field; nesting is limited
 * before anything recurses over the body (10,000 levels overflowed the stack), and what is accepted at the limit reads
 * back unchanged through GET /api/videos/:jobId. Real listener, real HTTP, real SQLite file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../src/events/json-limits.js';
import { get, makeEvent, post, startTestListener, tableCounts, type Body } from '../helpers/listener.js';

let l: Awaited<ReturnType<typeof startTestListener>>;
beforeAll(async () => {
  l = await startTestListener();
});
afterAll(async () => l.cleanup());

let n = 0;
const complete = () => makeEvent('complete-file-group', { jobId: `limits-${++n}` });
const firstOutput = (b: Body) => b.detail.outputGroupDetails[0].outputDetails[0];
const OUTPUT = 'body.detail.outputGroupDetails.0.outputDetails.0';

/** Posts `text` and expects a 400 whose message matches, with nothing written. */
async function refused(text: string, message: RegExp) {
  const before = tableCounts(l.db);
  const res = await post(l.url, text);
  expect(res.status, res.text).toBe(400);
  expect(res.json.message).toMatch(message);
  expect(tableCounts(l.db)).toEqual(before);
}

/** A body whose `marker` string value is replaced by a literal JSON.stringify cannot write (it would round it). */
const withLiteral = (body: Body, literal: string) => JSON.stringify(body).replace('"__LITERAL__"', literal);

describe('numbers the store cannot keep exactly', () => {
  const cases: Array<[string, (b: Body) => void, string, RegExp]> = [
    ['durationInMs: 1.5 (an INTEGER column)', (b) => (firstOutput(b).durationInMs = 1.5), '', new RegExp(`${OUTPUT}.durationInMs must be integer`)],
    ['durationInMs: 1e300', (b) => (firstOutput(b).durationInMs = '__LITERAL__'), '1e300', new RegExp(`${OUTPUT}.durationInMs is 1e300: numbers must be between`)],
    ['durationInMs: 2^53 + 1', (b) => (firstOutput(b).durationInMs = '__LITERAL__'), '9007199254740993', new RegExp(`${OUTPUT}.durationInMs is 9007199254740993`)],
    ['durationInMs: 1e400 (Infinity)', (b) => (firstOutput(b).durationInMs = '__LITERAL__'), '1e400', new RegExp(`${OUTPUT}.durationInMs is 1e400`)],
    ['widthInPx: 1e300', (b) => (firstOutput(b).videoDetails.widthInPx = '__LITERAL__'), '1e300', new RegExp(`${OUTPUT}.videoDetails.widthInPx is 1e300`)],
    ['heightInPx: 2^53', (b) => (firstOutput(b).videoDetails.heightInPx = '__LITERAL__'), '9007199254740992', /videoDetails\.heightInPx is 9007199254740992/],
    ['timestamp: 2^53 + 1', (b) => (b.detail.timestamp = '__LITERAL__'), '9007199254740993', /body\.detail\.timestamp is 9007199254740993/],
    ['timestamp: 1671476832124.5', (b) => (b.detail.timestamp = 1671476832124.5), '', /body\.detail\.timestamp must be whole epoch milliseconds/],
    ['framesDecoded: -1e300', (b) => (b.detail.framesDecoded = '__LITERAL__'), '-1e300', /body\.detail\.framesDecoded is -1e300/],
    ['warnings[0].count: 2^53 + 1', (b) => (b.detail.warnings = [{ code: 1, count: '__LITERAL__' }]), '9007199254740993', /body\.detail\.warnings\.0\.count is 9007199254740993/],
    ['an unknown field: 1e400', (b) => (b.detail.extra = { deep: ['__LITERAL__'] }), '1e400', /body\.detail\.extra\.deep\.0 is 1e400/],
    ['errorCode: 2^53 + 1 (kept as text)', (b) => (b.detail.errorCode = '__LITERAL__'), '9007199254740993', /body\.detail\.errorCode is 9007199254740993/],
  ];
  for (const [what, change, literal, message] of cases)
    it(`${what}: 400 naming the field, nothing stored`, async () => {
      const body = complete();
      change(body);
      await refused(literal ? withLiteral(body, literal) : JSON.stringify(body), message);
    });

  it('the largest exact values are kept exactly', async () => {
    const body = complete();
    firstOutput(body).durationInMs = Number.MAX_SAFE_INTEGER;
    firstOutput(body).videoDetails.widthInPx = Number.MAX_SAFE_INTEGER;
    body.detail.framesDecoded = -Number.MAX_SAFE_INTEGER;
    const res = await post(l.url, body);
    expect(res.status, res.text).toBe(200);
    const { json } = await get(l.url, `/api/videos/${body.detail.jobId}`);
    expect(json.video.durationMs).toBe(Number.MAX_SAFE_INTEGER);
    expect(json.video.outputs[0]).toMatchObject({ durationMs: Number.MAX_SAFE_INTEGER, width: Number.MAX_SAFE_INTEGER });
  });
});

describe('nesting', () => {
  const deep = (levels: number, leaf: unknown = 1): unknown => {
    let v = leaf;
    for (let i = 0; i < levels; i++) v = i % 2 ? { a: v } : [v];
    return v;
  };

  /** As text: JSON.stringify itself overflows the stack on 10,000 levels. */
  const deepText = (levels: number) => '[{"a":'.repeat(levels / 2) + '1' + '}]'.repeat(levels / 2);

  it('a field nested 10,000 deep: 400 naming the limit (it overflowed the stack: 500)', async () => {
    const env = complete();
    env.detail.extra = '__DEEP__';
    await refused(
      JSON.stringify(env).replace('"__DEEP__"', deepText(10_000)),
      new RegExp(`body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels \\(at body\\.detail\\.extra\\.0\\.a`),
    );
    // The curl body (whose id is a hash of its canonical JSON) and an array body, likewise.
    await refused(`{"detail": {"jobId": "deep-curl", "status": "COMPLETE", "timestamp": 1, "deep": ${deepText(10_000)}}}`, /deeper than 64 levels/);
    await refused('['.repeat(10_000) + ']'.repeat(10_000), /deeper than 64 levels \(at body\.0\.0/);
  });

  it('a deeply nested inputDetails is refused, not stored unreadable', async () => {
    const body = makeEvent('input-information', { jobId: `limits-${++n}` });
    body.detail.inputDetails[0].deep = deep(3_000);
    await refused(JSON.stringify(body), /deeper than 64 levels \(at body\.detail\.inputDetails\.0\.deep/);
    expect((await get(l.url, `/api/videos/${body.detail.jobId}`)).status).toBe(404);
  });

  it(`inputDetails nested to exactly ${MAX_JSON_DEPTH} levels is stored and reads back unchanged; one more is refused`, async () => {
    const body = makeEvent('input-information', { jobId: `limits-${++n}` });
    // body(1) › detail(2) › inputDetails(3) › [0](4) › deep…
    const room = MAX_JSON_DEPTH - 4;
    body.detail.inputDetails[0].deep = deep(room);
    const res = await post(l.url, body);
    expect(res.status, res.text).toBe(200);
    const read = await get(l.url, `/api/videos/${body.detail.jobId}`);
    expect(read.status).toBe(200);
    expect(read.json.video.inputDetails).toEqual(body.detail.inputDetails);

    const over = makeEvent('input-information', { jobId: `limits-${++n}` });
    over.detail.inputDetails[0].deep = deep(room + 1);
    await refused(JSON.stringify(over), /deeper than 64 levels/);
  });
});

describe('text', () => {
  it('an unpaired surrogate or a NUL is refused; a real pair and other unicode read back unchanged', async () => {
    const body = complete();
    await refused(JSON.stringify(body).replace('"queue":"', '"queue":"\\ud800'), /body\.detail\.queue contains \\ud800, an unpaired UTF-16 surrogate/);
    await refused(JSON.stringify(body).replace('"queue":"', '"queue":"\\udc00\\ud83d'), /body\.detail\.queue contains \\udc00/);

    await refused(JSON.stringify(body).replace('"queue":"', '"queue":"a\\u0000b'), /body\.detail\.queue contains \\u0000 \(NUL\)/);

    const queue = 'q \u{1F600} \u202e e\u0301 \u0001 漢字';
    body.detail.queue = queue;
    const text = JSON.stringify(body).replace('\u{1F600}', '\\ud83d\\ude00');
    const res = await post(l.url, text);
    expect(res.status, res.text).toBe(200);
    expect((await get(l.url, `/api/videos/${body.detail.jobId}`)).json.video.queue).toBe(queue);
  });

  it('a body above 256 KiB is 413', async () => {
    const body = complete();
    body.detail.extra = 'x'.repeat(300 * 1024);
    const res = await post(l.url, body);
    expect(res.status).toBe(413);
  });
});
