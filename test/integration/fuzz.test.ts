/**
 * Fuzz: thousands of random and mutated bodies (seeded, so a failure is reproducible). The listener never answers 5xx,
 * never crashes, and a rejected request writes nothing; an accepted one writes exactly its inbox row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_NAMES, TEST_KEY, fixture, startTestListener, tableCounts, type Body } from '../helpers/listener.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20240501);
const ROUNDS = 60;
const PER_ROUND = 50;

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

describe('fuzz', () => {
  let l: Awaited<ReturnType<typeof startTestListener>>;
  beforeAll(async () => {
    l = await startTestListener();
  });
  afterAll(async () => l.cleanup());

  it(`${ROUNDS * PER_ROUND} random and mutated bodies: no 5xx, nothing stored for a rejection (seed ${SEED})`, async () => {
    const rand = prng(SEED);
    const int = (n: number) => Math.floor(rand() * n);
    const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
    const strings = ['', 'COMPLETE', 'ERROR', 'MediaConvert Job State Change', 'aws.mediaconvert', 's3://b/k.mp4', '2024-01-01T00:00:00Z', '2024-99-99T99:99:99Z', '\u0000', '😀'.repeat(50), 'x'.repeat(3000), '__proto__', 'constructor', '{"a":', '-1', '1e999'];
    const randomValue = (depth: number): unknown => {
      switch (int(depth > 3 ? 5 : 8)) {
        case 0: return null;
        case 1: return rand() < 0.5;
        case 2: return pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, 1671476832124, Number.MAX_SAFE_INTEGER]);
        case 3: return pick(strings);
        case 4: return String.fromCharCode(...Array.from({ length: int(20) }, () => int(0xffff)));
        case 5: return Array.from({ length: int(4) }, () => randomValue(depth + 1));
        default: return Object.fromEntries(Array.from({ length: int(5) }, () => [pick([...strings, 'detail', 'id', 'source', 'detail-type', 'jobId', 'status', 'timestamp', 'outputGroupDetails']), randomValue(depth + 1)]));
      }
    };
    const mutate = (value: Body): Body => {
      // Walk to a random node and replace, delete or retype it.
      const copy = structuredClone(value);
      let node: any = copy;
      for (let depth = 0; depth < 6; depth++) {
        const keys = Object.keys(node);
        if (!keys.length) break;
        const key = pick(keys);
        const child = node[key];
        if (child && typeof child === 'object' && rand() < 0.6) {
          node = child;
          continue;
        }
        const r = rand();
        if (r < 0.3) delete node[key];
        else if (r < 0.9) node[key] = randomValue(2);
        else node[pick(strings)] = randomValue(2);
        break;
      }
      return copy;
    };
    const makeBody = (): { payload: string; contentType: string } => {
      const r = rand();
      const contentType = rand() < 0.95 ? pick(['application/json', 'application/json; charset=utf-8']) : pick(['text/plain', 'application/xml', '', 'application/json; charset=latin1']);
      if (r < 0.1) return { payload: Array.from({ length: int(200) }, () => String.fromCharCode(int(128))).join(''), contentType };
      if (r < 0.2) return { payload: JSON.stringify(randomValue(0)), contentType };
      const base = fixture(rand() < 0.1 ? 'curl-body' : pick(FIXTURE_NAMES));
      if (base.id) base.id = `fuzz-${int(1e9)}`;
      let body = base;
      for (let m = 0, n = 1 + int(3); m < n; m++) body = mutate(body);
      const text = JSON.stringify(body);
      // Sometimes cut it short: malformed JSON.
      return { payload: rand() < 0.1 ? text.slice(0, int(text.length)) : text, contentType };
    };

    const seen: Record<number, number> = {};
    for (let round = 0; round < ROUNDS; round++) {
      const requests = Array.from({ length: PER_ROUND }, makeBody);
      const before = tableCounts(l.db);
      const responses = await Promise.all(
        requests.map((r) =>
          l.app.inject({
            method: 'POST',
            url: '/aws/listener/eventbridge/video',
            headers: { 'x-api-key': TEST_KEY, ...(r.contentType ? { 'content-type': r.contentType } : {}) },
            payload: r.payload,
          }),
        ),
      );
      let stored = 0;
      for (const [i, res] of responses.entries()) {
        seen[res.statusCode] = (seen[res.statusCode] ?? 0) + 1;
        expect(res.statusCode, `seed ${SEED}, round ${round}: ${requests[i]?.payload.slice(0, 300)} → ${res.body}`).toBeLessThan(500);
        expect(res.json(), res.body).toEqual(expect.any(Object));
        if (res.statusCode === 200 && res.json().status !== 'duplicate') stored++;
      }
      expect((tableCounts(l.db).inbox ?? 0) - (before.inbox ?? 0)).toBe(stored);
    }
    // The run exercised both sides.
    expect(seen[200]).toBeGreaterThan(100);
    expect(seen[400]).toBeGreaterThan(100);
    // Every job still agrees with its inbox rows.
    const mismatched = l.db
      .prepare(
        `SELECT j.job_id FROM jobs j LEFT JOIN inbox i ON i.job_id = j.job_id AND i.outcome = 'processed' GROUP BY j.job_id HAVING j.event_count != COUNT(i.event_id)`,
      )
      .all();
    expect(mismatched).toEqual([]);
  });
});
