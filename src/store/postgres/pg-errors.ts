/**
 * Which PostgreSQL failures mean "the database cannot take this now, retry" (503, EventBridge retries) and which are
 * the operation's own. SQLSTATE classes from PostgreSQL's "Appendix A. PostgreSQL Error Codes".
 */

/** Connection lost or refused, server shutting down or starting, out of disk/memory/connections, read-only. */
const UNAVAILABLE_STATES = /^(08|53|57P0[1-4]|58|25006|55P03|57014)/;
const NODE_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** The pg driver's own messages when a connection ends or a checkout times out. */
const DRIVER_UNAVAILABLE = /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end/i;

export function isPgUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && (UNAVAILABLE_STATES.test(code) || NODE_UNAVAILABLE.has(code))) return true;
  return DRIVER_UNAVAILABLE.test((err as Error)?.message ?? '');
}

/** A serialization failure or a deadlock: the same transaction, run again, succeeds. */
export function isPgRetryable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === '40001' || code === '40P01';
}

/** One line for a message: the server's text and SQLSTATE, or the socket error's code. No connection string. */
export function describePgError(err: unknown): string {
  const e = err as { message?: string; code?: string; errors?: Array<{ message?: string; code?: string }> };
  // AggregateError (several addresses refused): the first cause says it.
  const inner = e.errors?.[0];
  const message = e.message || inner?.message || String(err);
  const code = e.code ?? inner?.code;
  return code && !message.includes(code) ? `${message} (${code})` : message;
}
