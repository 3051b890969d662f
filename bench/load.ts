/** autocannon, promisified, and the figures the benchmark reports from its result. */
import autocannon from 'autocannon';
import { round } from './lib.js';

export interface LoadOptions {
  url: string;
  connections: number;
  /** Fixed number of requests (takes precedence over duration). */
  amount?: number;
  durationSec?: number;
  /** Requests per second over all connections (for the burst). */
  overallRate?: number;
  headers: Record<string, string>;
  /** Makes the body of the n-th request. */
  body: (n: number) => string;
  timeoutSec?: number;
  /** Called with each 2xx response body (to collect the acknowledged event ids). */
  onAck?: (body: string) => void;
}

export interface LoadFigures {
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  reqPerSec: number;
  p50: number;
  p97_5: number;
  p99: number;
  max: number;
  durationSec: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadFigures> {
  let n = 0;
  // Timed here, from start to the last response: autocannon notices that `amount` requests are done only at its next
  // one-second sample tick, so its own duration rounds a fixed-amount run up to a whole second (10,000 duplicates
  // answered in 1.1 s counted as 2.0 s: -45 %). Both sides of every ratio are timed this way.
  let answered = 0;
  let lastAnswerAt = 0;
  const startedAt = performance.now();
  const result = await autocannon({
    url: options.url,
    method: 'POST',
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.durationSec ?? 10 }),
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
    timeout: options.timeoutSec ?? 10,
    headers: options.headers,
    requests: [
      {
        method: 'POST',
        setupRequest: (req: autocannon.Request) => ({ ...req, body: options.body(n++) }),
        onResponse: (status: number, body: string) => {
          answered++;
          lastAnswerAt = performance.now();
          if (options.onAck && status >= 200 && status < 300) options.onAck(body);
        },
      },
    ],
  });
  const completed = result.requests.total;
  const seconds = (lastAnswerAt - startedAt) / 1000;
  return {
    requests: completed,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    reqPerSec: seconds > 0 ? round(answered / seconds, 0) : 0,
    p50: result.latency.p50,
    p97_5: result.latency.p97_5,
    p99: result.latency.p99,
    max: result.latency.max,
    durationSec: round(seconds, 2),
  };
}
