/**
 * Bounded concurrency and the summary of a `--count` run: answers by HTTP status and by what the listener did
 * (processed / duplicate), latency percentiles and throughput.
 */

/** Runs `work` on every item with at most `concurrency` in flight; the first failure stops taking new items. */
export async function runPool<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        await work(items[index]!, index);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles, in milliseconds rounded to 0.1. */
export function summarizeLatency(samples: number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length ? sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]! : 0);
  const round = (n: number) => Math.round(n * 10) / 10;
  return { p50: round(at(50)), p95: round(at(95)), p99: round(at(99)), max: round(sorted.at(-1) ?? 0) };
}

/**
 * What the listener said it did with an event, from its JSON answer: `{"duplicate": true}` or a `status`/`result`
 * field naming it. Anything else counts as "other".
 */
export function classifyAnswer(status: number, body: string): string {
  if (status < 200 || status > 299) return 'rejected';
  try {
    const doc = JSON.parse(body) as Record<string, unknown>;
    if (doc.duplicate === true) return 'duplicate';
    for (const key of ['result', 'outcome', 'status']) {
      const value = doc[key];
      if (typeof value === 'string' && value !== '') return value.toLowerCase();
    }
    if (doc.duplicate === false) return 'processed';
  } catch {
    /* not JSON */
  }
  return 'other';
}
