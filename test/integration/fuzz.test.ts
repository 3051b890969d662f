/**
 * Fuzz (seeded, so a failure is reproducible with FUZZ_SEED): bodies derived from the documented samples in
 * test/fixtures/events — type flips, extreme numbers, unicode, nesting around the depth limit, missing and extra
 * fields — plus random and truncated JSON. The listener answers only 2xx or 4xx; a rejected request writes nothing;
 * every accepted one is stored and readable through the read API (GET /api/videos/:jobId answers 200 with JSON).
 *
 * 10,000 bodies in the normal suite (a few seconds); VIDPIPE_FUZZ_RUNS=200000 for a longer run.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../src/events/json-limits.js';
import { FIXTURE_NAMES, TEST_KEY, fixture, startTestListener, tableCounts, type Body } from '../helpers/listener.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20240501);
const RUNS = Number(process.env.VIDPIPE_FUZZ_RUNS ?? 10_000);
const PER_ROUND = 100;
const SEED_BODY =
  '{"detail": {"status": "COMPLETE", "outputGroupDetails": [{"outputDetails": [{"outputFilePaths": ["/path/to/video.mp4"]}]}], "queue": "MyQueue", "timestamp": "2024-03-14T12:00:00", "jobId": "123456"}}';

function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A number literal JSON.stringify cannot write (it would round it): placed as this marker, then unquoted. */
const RAW = '\u0001raw:';
const raw = (literal: string) => `${RAW}${literal}`;
const unRaw = (text: string) => text.replace(/"\\u0001raw:([^"]*)"/g, '$1');

function generator(seed: number) {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;

  const extremeNumbers: unknown[] = [
    0, -0, -1, 1, 1.5, 0.1, 99.999, 100, 101, 1e-300, -1e-300, 1e15, 1e300, -1e300, 1671476832124, 8.64e15, 8.64e15 + 1,
    Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 53, raw('9007199254740993'), raw('-9007199254740993'),
    raw('1e400'), raw('-1e400'), raw('123456789012345678901234567890'), raw('1.0000000000000000001'), raw('1E2'), raw('0.5e1'),
  ];
  const strings: string[] = [
    '', ' ', 'COMPLETE', 'ERROR', 'PROGRESSING', 'STATUS_UPDATE', 'MediaConvert Job State Change', 'aws.mediaconvert', 'vidpipe.simulator',
    's3://b/k.mp4', 's3://b/t.0000001.jpg', '/path/to/video.mp4', 'video.mp4', 'https://x/y.mp4', '//x/y', '2024-01-01T00:00:00Z',
    '2024-03-14T12:00:00', '2024-02-30T00:00:00Z', '2024-99-99T99:99:99Z', '1671476832124', 'FILE_GROUP', 'HLS_GROUP',
    '\u0000', '\u202eevil', 'e\u0301', '\ufeffbom', '😀'.repeat(50), '漢字', 'x'.repeat(3000), '__proto__', 'constructor',
    'prototype', '{"a":', '-1', '1e999', "'; DROP TABLE jobs; --", '\\', '"', raw('"\\ud800"'), raw('"\\udc00x"'), raw('"\\ud83d\\ude00"'),
  ];
  const keys = ['detail', 'id', 'source', 'detail-type', 'jobId', 'status', 'timestamp', 'outputGroupDetails', 'outputDetails', 'type', 'userMetadata', 'postId', 'durationInMs', 'widthInPx', 'inputDetails', 'jobProgress', 'warnings', 'code', 'count', '__proto__', 'constructor', 'extra', '😀', ''];

  const nest = (value: unknown, levels: number): unknown => {
    let v = value;
    for (let k = 0; k < levels; k++) v = rand() < 0.5 ? [v] : { [pick(keys)]: v };
    return v;
  };

  const randomValue = (depth: number): unknown => {
    switch (int(depth > 3 ? 6 : 9)) {
      case 0: return null;
      case 1: return rand() < 0.5;
      case 2:
      case 3: return pick(extremeNumbers);
      case 4: return pick(strings);
      case 5: return String.fromCharCode(...Array.from({ length: int(20) }, () => int(0xffff)));
      case 6: return Array.from({ length: int(4) }, () => randomValue(depth + 1));
      case 7: return nest(randomValue(depth + 1), 1 + int(MAX_JSON_DEPTH + 10));
      default: return Object.fromEntries(Array.from({ length: int(5) }, () => [pick(keys), randomValue(depth + 1)]));
    }
  };

  /** The same kind of value, another type: a number for a string, an object for an array… */
  const flip = (v: unknown): unknown => {
    if (typeof v === 'string') return pick([pick(extremeNumbers), true, null, [v], { v }]);
    if (typeof v === 'number') return pick([String(v), pick(extremeNumbers), false, [v]]);
    if (Array.isArray(v)) return pick([v[0] ?? null, {}, 'array', v.length]);
    if (v && typeof v === 'object') return pick([[v], 'object', 0, null]);
    return pick([pick(strings), 1, {}, []]);
  };

  /** Every [container, key] in the body: a mutation picks one of them uniformly, so deep fields are hit as often. */
  const slots = (body: Body): Array<[any, string | number]> => {
    const out: Array<[any, string | number]> = [];
    const stack: any[] = [body];
    while (stack.length) {
      const node = stack.pop();
      for (const key of Array.isArray(node) ? node.keys() : Object.keys(node)) {
        out.push([node, key]);
        const child = node[key];
        if (child && typeof child === 'object') stack.push(child);
      }
    }
    return out;
  };

  /** Nested far past the limit, as text (JSON.stringify itself overflows the stack on 10,000 levels). */
  const veryDeep = () => {
    const levels = pick([500, 3_000, 10_000]);
    return raw('[{"a":'.repeat(levels / 2) + '1' + '}]'.repeat(levels / 2));
  };

  /**
   * One change at a random place: the operation first, then a place it fits (a number for an extreme number, a string
   * for odd unicode), so that a deep numeric field such as durationInMs is changed about as often as a top-level one.
   */
  const mutate = (body: Body): Body => {
    const all = slots(body);
    if (!all.length) return body;
    const where = (test: (v: unknown) => boolean) => {
      const fit = all.filter(([node, key]) => test(node[key]));
      return fit.length ? pick(fit) : pick(all);
    };
    const r = rand();
    if (r < 0.3) {
      const [node, key] = where((v) => typeof v === 'number');
      node[key] = pick(extremeNumbers);
    } else if (r < 0.45) {
      const [node, key] = where((v) => typeof v === 'string');
      node[key] = rand() < 0.5 ? pick(strings) : randomValue(3);
    } else if (r < 0.6) {
      const [node, key] = pick(all);
      node[key] = flip(node[key]);
    } else if (r < 0.7) {
      const [node, key] = pick(all);
      if (Array.isArray(node)) node.splice(key as number, 1);
      else delete node[key];
    } else if (r < 0.82) {
      const [node, key] = pick(all);
      node[key] = nest(node[key], 1 + int(MAX_JSON_DEPTH + 10));
    } else if (r < 0.86) {
      const [node, key] = pick(all);
      node[key] = veryDeep();
    } else {
      // An extra field (or element) beside a random one.
      const [node] = pick(all);
      if (Array.isArray(node)) node.push(randomValue(2));
      else node[pick(keys)] = randomValue(2);
    }
    return body;
  };

  const bases = (): Body => {
    const r = rand();
    if (r < 0.1) return JSON.parse(SEED_BODY) as Body;
    if (r < 0.2) return fixture('curl-body');
    const body = fixture(pick(FIXTURE_NAMES));
    body.id = `fuzz-${int(1e9)}`;
    if (rand() < 0.5) body.detail.jobId = `fuzz-${int(500)}`;
    return body;
  };

  return (): { payload: string; contentType: string } => {
    const contentType = rand() < 0.97 ? pick(['application/json', 'application/json; charset=utf-8']) : pick(['text/plain', 'application/xml', '', 'application/json; charset=latin1']);
    const r = rand();
    if (r < 0.03) return { payload: Array.from({ length: int(200) }, () => String.fromCharCode(int(128))).join(''), contentType };
    if (r < 0.08) return { payload: unRaw(JSON.stringify(randomValue(0))), contentType };
    let body = bases();
    // Some unchanged (to exercise the accepted path), most with one change (near-valid bodies find what the schema
    // lets through but the store cannot keep), some with up to four.
    const mutations = pick([0, 1, 1, 1, 1, 2, 2, 3, 4]);
    for (let m = 0; m < mutations; m++) body = mutate(body);
    const text = unRaw(JSON.stringify(body));
    // Sometimes cut short: malformed JSON.
    return { payload: rand() < 0.05 ? text.slice(0, int(text.length)) : text, contentType };
  };
}

describe('fuzz', () => {
  let l: Awaited<ReturnType<typeof startTestListener>>;
  const shm = existsSync('/dev/shm') ? mkdtempSync(path.join('/dev/shm', 'vidpipe-fuzz-')) : undefined;
  beforeAll(async () => {
    // On tmpfs where there is one: this run is about input, not durability, and an fsync per round is most of its time.
    l = await startTestListener(shm ? { dbPath: path.join(shm, 'fuzz.db') } : {});
  });
  afterAll(async () => {
    await l.cleanup();
    if (shm) rmSync(shm, { recursive: true, force: true });
  });

  it(
    `${RUNS} bodies derived from the samples: only 2xx/4xx, nothing stored for a rejection, every 2xx stored and readable (seed ${SEED})`,
    async () => {
      const next = generator(SEED);
      const inject = (method: 'GET' | 'POST', url: string, r?: { payload: string; contentType: string }) =>
        l.app.inject({
          method,
          url,
          headers: { 'x-api-key': TEST_KEY, ...(r?.contentType ? { 'content-type': r.contentType } : {}) },
          ...(r ? { payload: r.payload } : {}),
        });
      const inboxHas = l.db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM inbox WHERE event_id = ?');
      const seen: Record<number, number> = {};
      const outcomes: Record<string, number> = {};
      for (let done = 0, round = 0; done < RUNS; done += PER_ROUND, round++) {
        const requests = Array.from({ length: Math.min(PER_ROUND, RUNS - done) }, next);
        const before = tableCounts(l.db);
        const responses = await Promise.all(requests.map((r) => inject('POST', '/aws/listener/eventbridge/video', r)));
        let stored = 0;
        const jobIds = new Set<string>();
        for (const [i, res] of responses.entries()) {
          seen[res.statusCode] = (seen[res.statusCode] ?? 0) + 1;
          const what = () => `seed ${SEED}, round ${round}: ${requests[i]?.payload.slice(0, 400)} → ${res.statusCode} ${res.body}`;
          expect(res.statusCode < 500 && (res.statusCode < 300 || res.statusCode >= 400), what()).toBe(true);
          const json = res.json();
          expect(json, what()).toEqual(expect.any(Object));
          if (res.statusCode >= 300) continue;
          outcomes[json.status] = (outcomes[json.status] ?? 0) + 1;
          if (json.status !== 'duplicate') stored++;
          // Stored: its inbox row is there.
          expect(inboxHas.get(json.eventId)?.n, what()).toBe(1);
          if (json.jobId) jobIds.add(json.jobId);
        }
        expect((tableCounts(l.db).inbox ?? 0) - (before.inbox ?? 0), `seed ${SEED}, round ${round}`).toBe(stored);
        // Readable: the read API returns every job an accepted event touched.
        const ids = [...jobIds];
        const reads = await Promise.all(ids.map((id) => inject('GET', `/api/videos/${encodeURIComponent(id)}`)));
        for (const [i, res] of reads.entries()) {
          expect(res.statusCode, `seed ${SEED}, round ${round}: GET /api/videos/${ids[i]} → ${res.body.slice(0, 300)}`).toBe(200);
          expect(res.json().video.jobId).toEqual(expect.any(String));
        }
      }
      if (process.env.FUZZ_STATS) console.log(JSON.stringify({ seen, outcomes }));
      // The run exercised both sides, and the limits.
      expect(seen[200]).toBeGreaterThan(RUNS / 10);
      expect(seen[400]).toBeGreaterThan(RUNS / 10);
      expect(outcomes.processed).toBeGreaterThan(RUNS / 20);
      // Every job still agrees with its inbox rows, and the whole list reads back.
      const mismatched = l.db
        .prepare(
          `SELECT j.job_id FROM jobs j LEFT JOIN inbox i ON i.job_id = j.job_id AND i.outcome = 'processed' GROUP BY j.job_id HAVING j.event_count != COUNT(i.event_id)`,
        )
        .all();
      expect(mismatched).toEqual([]);
      let cursor: string | null = '';
      let listed = 0;
      while (cursor !== null) {
        const page = await inject('GET', `/api/videos?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(page.statusCode, page.body.slice(0, 300)).toBe(200);
        listed += page.json().videos.length;
        cursor = page.json().nextCursor;
      }
      expect(listed).toBe(tableCounts(l.db).jobs);
    },
    // The long run (VIDPIPE_FUZZ_RUNS) gets the time it needs.
    Math.max(60_000, RUNS * 5),
  );
});
