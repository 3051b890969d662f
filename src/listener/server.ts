/**
 * The running service: store + app + Slack notifier, started and stopped as one. The CLI's `listen` verb, the tests and
 * the benchmark all start it through startListener().
 *
 * Order matters for "create nothing before it can run": the port is bound first (a port in use fails before any
 * database file or schema exists), then the store is opened; requests in between get 503 (not ready yet).
 */
import type { FastifyInstance } from 'fastify';
import { UsageError } from '../errors.js';
import { openStore, parseDatabaseLocation, type DatabaseLocation, type SqliteWriterMode } from '../store/open-store.js';
import { buildListener, type ListenerDeps } from './http/app.js';
import type { AuthConfig } from './http/auth.js';
import { LiveHub, type DashboardOptions } from './http/dashboard/index.js';
import { StoreUnavailableError, type ListenerStore } from './core/store-port.js';
import { createEventParser } from '../events/parse-event.js';
import type { NormalisedEvent } from '../events/normalise.js';
import { ingestEvent, type IngestAnswer } from './core/ingest.js';
import { Forwarder, type ForwarderOptions, type ForwardResult } from './notify/forwarder.js';
import { SqsPuller, type SqsPullerOptions } from './pull/sqs-puller.js';
import { NO_WEBHOOK_REASON, SlackNotifier, type SlackNotifierOptions } from './notify/slack-notifier.js';
import { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './limits.js';
import { createLogDestination } from './log-destination.js';

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
  /** Where logs go (default: stdout, through a destination that drops lines rather than block: log-destination.ts). */
  logStream?: NodeJS.WritableStream;
  /** The file descriptor that destination writes to (default 1, stdout; 2 for stderr, or a --log-file's). */
  logFd?: number;
  /** Each event a transport ingested (the live view). */
  onEvent?: (answer: IngestAnswer, event: NormalisedEvent, via: 'http' | 'sqs') => void;
  /** Each delivery to the --forward-to app (the live view). */
  onForward?: (result: ForwardResult) => void;
  /** Called once if stdout fails (full disk, /dev/full, a closed pipe): log lines are dropped, events still stored. */
  onLogFailure?(err: NodeJS.ErrnoException): void;
  /** Timeouts and the connection bound; what is left out has its default (limits.ts). */
  limits?: Partial<ConnectionLimits>;
  /** SQLite: where commits run: inline, on a worker thread, or 'auto' (default: by cores). */
  writer?: SqliteWriterMode;
  /** Overrides for the Slack notifier (tests shorten its intervals, inject a clock and a random). */
  notifier?: Partial<Omit<SlackNotifierOptions, 'store' | 'webhookUrl' | 'logger'>>;
  /** The dashboard at / (default on); false: `--no-dashboard`. Options: the region to sign S3 URLs in, a media stub. */
  dashboard?: boolean | Omit<DashboardOptions, 'live'>;
  /** `--forward-to`: relay every new event to the user's app (url, headers; tests shorten intervals). */
  forward?: Omit<ForwarderOptions, 'store' | 'logger'>;
  /** `--pull`: receive events from an SQS queue; `endpoint` keeps the HTTP POST route too (default: off). */
  pull?: Omit<SqsPullerOptions, 'parse' | 'ingest' | 'logger'> & { endpoint?: boolean };
}

export interface RunningListener {
  /** http://host:port */
  url: string;
  port: number;
  app: FastifyInstance;
  store: ListenerStore;
  notifier: SlackNotifier;
  forwarder: Forwarder | undefined;
  puller: SqsPuller | undefined;
  /** Log lines dropped because the log destination failed or could not keep up. */
  logsDropped(): number;
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
  const logDestination =
    options.logLevel === 'silent' || options.logStream ? undefined : createLogDestination({ ...(options.onLogFailure ? { onFailure: options.onLogFailure } : {}), ...(options.logFd !== undefined ? { fd: options.logFd } : {}) });
  const deps: ListenerDeps = {
    store: unopenedStore(),
    auth: options.auth,
    processedSources: options.processedSources,
    limits: { ...DEFAULT_CONNECTION_LIMITS, ...options.limits },
    logger: options.logLevel === 'silent' ? false : { level: options.logLevel ?? 'info', stream: options.logStream ?? logDestination },
    readiness: [],
    ...(options.dashboard === false ? {} : { dashboard: { ...(typeof options.dashboard === 'object' ? options.dashboard : {}), live: new LiveHub() } }),
    endpoint: options.pull ? options.pull.endpoint === true : true,
    ...(options.onEvent ? { onIngested: (answer: IngestAnswer, event: NormalisedEvent) => options.onEvent?.(answer, event, 'http') } : {}),
  };
  const app = buildListener(deps);

  try {
    await app.listen({ port: options.port, host: options.host });
  } catch (err) {
    await app.close().catch(() => undefined);
    await logDestination?.close();
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
      ...(options.forward ? { forwardEvents: true } : {}),
    });
  } catch (err) {
    await app.close().catch(() => undefined);
    await logDestination?.close();
    throw err;
  }
  const notifier = new SlackNotifier({ ...options.notifier, store, webhookUrl: options.slackWebhookUrl, logger: app.log });
  const forwarder = options.forward ? new Forwarder({ ...options.forward, store, logger: app.log, ...(options.onForward ? { onResult: options.onForward } : {}) }) : undefined;
  store.onCommit(() => {
    notifier.wake();
    forwarder?.wake();
  });
  // Live views are fed by the commit path, never by polling the database.
  if (deps.dashboard) store.onCommit(deps.dashboard.live.publish);
  deps.store = store;
  deps.readiness?.push(() => notifier.readiness());
  if (forwarder) deps.readiness?.push(() => forwarder.readiness());
  const puller = options.pull
    ? new SqsPuller({
        ...options.pull,
        parse: createEventParser({ processedSources: options.processedSources }),
        ingest: (event, text) => ingestEvent(event, { store }, text),
        logger: app.log,
        ...(options.onEvent ? { onIngested: (answer: IngestAnswer, event: NormalisedEvent) => options.onEvent?.(answer, event, 'sqs') } : {}),
      })
    : undefined;
  if (puller) deps.readiness?.push(() => puller.readiness());
  notifier.start();
  forwarder?.start();
  puller?.start();

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
    forwarder,
    puller,
    logsDropped: () => logDestination?.dropped ?? 0,
    close() {
      closing ??= (async () => {
        // The puller stops receiving and finishes (or hands back) its batch; fastify.close() stops accepting and waits
        // for in-flight requests, whose writes the writer commits.
        await puller?.stop();
        await app.close();
        await Promise.all([notifier.stop(), forwarder?.stop()]);
        await store.close();
        await logDestination?.close();
      })();
      return closing;
    },
  };
}
