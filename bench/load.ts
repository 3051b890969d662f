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
        ...(options.onAck ? { onResponse: (status: number, body: string) => (status >= 200 && status < 300 ? options.onAck?.(body) : undefined) } : {}),
      },
    ],
  });
  const completed = result.requests.total;
  return {
    requests: completed,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    // Completed requests over wall time: autocannon's per-second average is the same figure, less exact on short runs.
    reqPerSec: round(completed / result.duration, 0),
    p50: result.latency.p50,
    p97_5: result.latency.p97_5,
    p99: result.latency.p99,
    max: result.latency.max,
    durationSec: round(result.duration, 2),
  };
}
