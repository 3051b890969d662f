/**
 * Live updates for the dashboard: server-sent events fed by the store's commit hook (store.onCommit), never by
 * polling the database. Each commit that processed events becomes one `commit` message listing {jobId, eventId, status}
 * per processed event; pages re-read what they show. A browser that falls behind (its socket buffer past
 * MAX_BUFFERED_BYTES) is dropped: EventSource reconnects by itself and the page re-reads everything on `open`.
 */
import type { ServerResponse } from 'node:http';
import type { IngestResult } from '../../core/store-port.js';

/** A comment line this often keeps proxies (and the browser) from closing an idle stream; 25 s is under the common 30–60 s idle timeouts. */
export const HEARTBEAT_MS = 25_000;
const MAX_BUFFERED_BYTES = 256 * 1024;
/** Browsers open one stream per tab; this bounds what a stuck client population can hold. */
export const MAX_CLIENTS = 200;

export class LiveHub {
  private readonly clients = new Set<ServerResponse>();
  private heartbeat: NodeJS.Timeout | undefined;

  get size(): number {
    return this.clients.size;
  }

  /** The store's commit hook: one message per commit with the processed events. */
  publish = (results: readonly IngestResult[]): void => {
    if (!this.clients.size) return;
    const changed = results.filter((r) => r.status === 'processed').map((r) => ({ jobId: r.jobId, eventId: r.eventId }));
    if (!changed.length) return;
    this.broadcast(`event: commit\ndata: ${JSON.stringify({ events: changed })}\n\n`);
  };

  /** Something else changed (a notification requeued): pages showing notifications re-read them. */
  notify(kind: 'notifications'): void {
    this.broadcast(`event: ${kind}\ndata: {}\n\n`);
  }

  /** Takes over a response as an event stream; false when full. */
  attach(res: ServerResponse): boolean {
    if (this.clients.size >= MAX_CLIENTS) return false;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
      // nginx and similar proxies buffer responses unless told not to.
      'x-accel-buffering': 'no',
    });
    // retry: how long EventSource waits before reconnecting after a drop.
    res.write('retry: 2000\n: connected\n\n');
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
    this.heartbeat ??= setInterval(() => this.broadcast(': ping\n\n'), HEARTBEAT_MS).unref();
    return true;
  }

  /** Ends every stream (shutdown: fastify waits for open responses). */
  closeAll(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private broadcast(message: string): void {
    for (const res of this.clients) {
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        res.destroy();
        this.clients.delete(res);
        continue;
      }
      res.write(message);
    }
  }
}
