/**
 * How long a client may take and how many may be connected at once, so a slow or stalled client (one that trickles its
 * headers or body a byte at a time) cannot hold a connection, or all of them, for long.
 *
 * Node enforces two whole-request deadlines — headersTimeout (all headers received) and requestTimeout (the whole
 * request received) — but only checks them every `connectionsCheckingInterval` (30 s by default), which is why a
 * trickling socket used to stay open past 30 s whatever the timeouts said. The socket-inactivity timeout does not help
 * against a trickler: every byte resets it. (Node docs: http.createServer options headersTimeout, requestTimeout,
 * connectionsCheckingInterval; server.keepAliveTimeout; server.maxConnections.)
 */
import type { Server } from 'node:http';

export interface ConnectionLimits {
  /** Time to receive the request line and all headers, from the connection's start (or the previous response). */
  headerTimeoutMs: number;
  /** Time to receive the whole request, headers and body. Also the idle time allowed while a request is open. */
  requestTimeoutMs: number;
  /** How long an idle kept-alive connection stays open after a response. */
  keepAliveTimeoutMs: number;
  /** Connections open at once; the ones above are closed as soon as they are accepted. */
  maxConnections: number;
}

/**
 * EventBridge gives an API destination 5 s per invocation ("maximum client execution timeout of 5 seconds", EventBridge
 * user guide, eb-api-destinations.html), so a real sender is done well within
 * these; a client still sending headers after 5 s, or a body after 10 s, is not one worth waiting for. 512 connections
 * is far above what EventBridge opens at its 300 invocations/s ceiling with answers in milliseconds, and below the
 * usual 1024 open-file limit that the database also needs descriptors from.
 */
export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = {
  headerTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 512,
};

/**
 * How often Node looks for requests past their deadline: a quarter of the shortest one, between 100 ms and 1 s. A
 * trickling client is thus closed at most a second after its deadline (about 6 s and 11 s with the defaults).
 */
export function checkingIntervalMs(limits: ConnectionLimits): number {
  return Math.min(1_000, Math.max(100, Math.floor(Math.min(limits.headerTimeoutMs, limits.requestTimeoutMs) / 4)));
}

/** The fastify options that carry the limits (fastify passes `http` to http.createServer). */
export function fastifyConnectionOptions(limits: ConnectionLimits) {
  return {
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: limits.headerTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: checkingIntervalMs(limits),
    },
  };
}

/** What fastify has no option for. */
export function applyConnectionLimits(server: Server, limits: ConnectionLimits): void {
  server.maxConnections = limits.maxConnections;
}

/**
 * The problems with a set of limits, in words (empty when they are usable): the CLI turns them into a usage error.
 * Node refuses a header timeout longer than the request timeout (it could never apply).
 */
export function checkConnectionLimits(limits: ConnectionLimits, names: Record<keyof ConnectionLimits, string>): string[] {
  const problems: string[] = [];
  for (const key of ['headerTimeoutMs', 'requestTimeoutMs', 'keepAliveTimeoutMs'] as const)
    if (!Number.isFinite(limits[key]) || limits[key] < 100 || limits[key] > 3_600_000) problems.push(`${names[key]} must be from 0.1 to 3600 seconds`);
  if (!Number.isSafeInteger(limits.maxConnections) || limits.maxConnections < 1 || limits.maxConnections > 65_535)
    problems.push(`${names.maxConnections} must be a whole number from 1 to 65535`);
  if (!problems.length && limits.headerTimeoutMs > limits.requestTimeoutMs)
    problems.push(`${names.headerTimeoutMs} (${limits.headerTimeoutMs / 1000} s) must not be longer than ${names.requestTimeoutMs} (${limits.requestTimeoutMs / 1000} s)`);
  return problems;
}
