/**
 * The running service: store + app + Slack notifier, started and stopped as one. The CLI's `listen` verb, the tests and
 * the benchmark all start it through startListener().
 *
 * Order matters for "create nothing before it can run": the port is bound first (a port in use fails before any
 * database file or schema exists), then the store is opened; requests in between get 503 (not ready yet).
 */
import type { FastifyInstance } from 'fastify';
import { UsageError } from '../errors.js';
import { openStore, parseDatabaseLocation, type DatabaseLocation } from '../store/open-store.js';
import { buildListener, type ListenerDeps } from './http/app.js';
import type { AuthConfig } from './http/auth.js';
import { LiveHub, type DashboardOptions } from './http/dashboard/index.js';
import { StoreUnavailableError, type ListenerStore } from './core/store-port.js';
import { NO_WEBHOOK_REASON, SlackNotifier, type SlackNotifierOptions } from './notify/slack-notifier.js';

export interface ListenerOptions {
  port: number;
  host: string;
  /** Where the database is: a parsed location, or its text (a SQLite path, sqlite:PATH, postgres://…). */
  database: DatabaseLocation | string;
  auth: AuthConfig;
  processedSources: readonly string[];
  /** SLACK_WEBHOOK_URL (from the environment only). */
  slackWebhookUrl?: string;
  /** pino level, or 'silent'. */
  logLevel?: string;
  /** Where logs go (default: stdout). */
  logStream?: NodeJS.WritableStream;
  /** SQLite: where commits run, a worker thread when the build has one (default), or inline on the event loop. */
  writer?: 'inline' | 'auto';
  /** Overrides for the Slack notifier (tests shorten its intervals, inject a clock and a random). */
  notifier?: Partial<Omit<SlackNotifierOptions, 'store' | 'webhookUrl' | 'logger'>>;
  /** The dashboard at / (default on); false: `--no-dashboard`. Options: the region to sign S3 URLs in, a media stub. */
  dashboard?: boolean | Omit<DashboardOptions, 'live'>;
}

export interface RunningListener {
  /** http://host:port */
  url: string;
  port: number;
  app: FastifyInstance;
  store: ListenerStore;
  notifier: SlackNotifier;
  /** Stop accepting, finish in-flight requests, stop the notifier, flush the writer, close the database. */
  close(): Promise<void>;
}

/** Stands in for the store while the port is bound and the database not yet open: everything answers 503. */
function unopenedStore(): ListenerStore {
  const notYet = new StoreUnavailableError('the database is not open yet');
  return new Proxy({} as ListenerStore, {
    get(_target, prop) {
      if (prop === 'readiness') return async () => ({ ready: false, reason: 'the database is not open yet' });
      if (prop === 'lookupEvent') return () => undefined;
      if (prop === 'onCommit') return () => undefined;
      return () => Promise.reject(notYet);
    },
  });
}

export async function startListener(options: ListenerOptions): Promise<RunningListener> {
  const location = typeof options.database === 'string' ? parseDatabaseLocation(options.database) : options.database;
  const deps: ListenerDeps = {
    store: unopenedStore(),
    auth: options.auth,
    processedSources: options.processedSources,
    logger: options.logLevel === 'silent' ? false : { level: options.logLevel ?? 'info', ...(options.logStream ? { stream: options.logStream } : {}) },
    readiness: [],
    ...(options.dashboard === false ? {} : { dashboard: { ...(typeof options.dashboard === 'object' ? options.dashboard : {}), live: new LiveHub() } }),
  };
  const app = buildListener(deps);

  try {
    await app.listen({ port: options.port, host: options.host });
  } catch (err) {
    await app.close().catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new UsageError('PORT_IN_USE', `Port ${options.port} on ${options.host} is already in use.`, { hint: 'Stop the other process or pass --port N (env PORT).' });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EACCES')
      throw new UsageError('LISTEN_FAILED', `Cannot listen on ${options.host}:${options.port} (${code}).`, { hint: 'Check --host and --port.' });
    throw err;
  }

  let store: ListenerStore;
  try {
    store = await openStore(location, {
      ...(options.slackWebhookUrl ? {} : { skipNotificationsReason: NO_WEBHOOK_REASON }),
      ...(options.writer ? { writer: options.writer } : {}),
    });
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  const notifier = new SlackNotifier({ ...options.notifier, store, webhookUrl: options.slackWebhookUrl, logger: app.log });
  store.onCommit(() => notifier.wake());
  // Live views are fed by the commit path, never by polling the database.
  if (deps.dashboard) store.onCommit(deps.dashboard.live.publish);
  deps.store = store;
  deps.readiness?.push(() => notifier.readiness());
  notifier.start();

  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    app,
    store,
    notifier,
    close() {
      closing ??= (async () => {
        // fastify.close() stops accepting and waits for in-flight requests, whose writes the writer commits.
        await app.close();
        await notifier.stop();
        await store.close();
      })();
      return closing;
    },
  };
}
