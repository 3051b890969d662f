/**
 * The running service: database + group-commit writer + Slack worker + app, started and stopped as one. The CLI's
 * `listen` verb, the tests and the benchmark all start it through startListener().
 */
import type { FastifyInstance } from 'fastify';
import { UsageError } from '../errors.js';
import { openDatabase, type Db } from '../store/db.js';
import { BatchWriter } from '../store/batch-writer.js';
import { createStore, type Store } from '../store/store.js';
import { buildListener } from './app.js';
import type { AuthConfig } from './auth.js';
import { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './limits.js';
import { createLogDestination } from './log-destination.js';
import { NO_WEBHOOK_REASON, OutboxWorker, type OutboxWorkerOptions } from './notify/outbox-worker.js';

export interface ListenerOptions {
  port: number;
  host: string;
  dbPath: string;
  auth: AuthConfig;
  processedSources: readonly string[];
  /** SLACK_WEBHOOK_URL (from the environment only). */
  slackWebhookUrl?: string;
  /** pino level, or 'silent'. */
  logLevel?: string;
  /** Where logs go (default: stdout, through a destination that drops lines rather than block: log-destination.ts). */
  logStream?: NodeJS.WritableStream;
  /** Called once if stdout fails (full disk, /dev/full, a closed pipe): log lines are dropped, events still stored. */
  onLogFailure?(err: NodeJS.ErrnoException): void;
  /** Where commits run: a worker thread when the build has one (default), or inline on the event loop. */
  writer?: 'inline' | 'auto';
  /** Timeouts and the connection bound; what is left out has its default (limits.ts). */
  limits?: Partial<ConnectionLimits>;
  /** Overrides for the Slack worker (tests shorten its intervals). */
  notifier?: Partial<Omit<OutboxWorkerOptions, 'store' | 'webhookUrl' | 'logger'>>;
}

export interface RunningListener {
  /** http://host:port */
  url: string;
  port: number;
  app: FastifyInstance;
  db: Db;
  store: Store;
  writer: BatchWriter;
  /** Log lines dropped because the log destination failed or could not keep up. */
  logsDropped(): number;
  /** Stop accepting, finish in-flight requests, flush the writer, stop the worker, close the database. */
  close(): Promise<void>;
}

export async function startListener(options: ListenerOptions): Promise<RunningListener> {
  const db = openDatabase(options.dbPath);
  const storeOptions = options.slackWebhookUrl ? {} : { skipNotificationsReason: NO_WEBHOOK_REASON };
  const store = createStore(db, storeOptions);
  let worker: OutboxWorker | undefined;
  const writerOptions = { onCommit: () => worker?.wake() };
  let writer: BatchWriter;
  try {
    writer =
      options.writer === 'inline'
        ? BatchWriter.inline(db, store, writerOptions)
        : await BatchWriter.start(db, store, { dbPath: options.dbPath, storeOptions }, writerOptions);
  } catch (err) {
    db.close();
    throw err;
  }
  const logDestination =
    options.logLevel === 'silent' || options.logStream ? undefined : createLogDestination(options.onLogFailure ? { onFailure: options.onLogFailure } : {});
  const app = buildListener({
    store,
    writer,
    auth: options.auth,
    processedSources: options.processedSources,
    limits: { ...DEFAULT_CONNECTION_LIMITS, ...options.limits },
    logger: options.logLevel === 'silent' ? false : { level: options.logLevel ?? 'info', stream: options.logStream ?? logDestination },
  });
  worker = new OutboxWorker({ ...options.notifier, store, webhookUrl: options.slackWebhookUrl, logger: app.log });

  try {
    await app.listen({ port: options.port, host: options.host });
  } catch (err) {
    await app.close().catch(() => undefined);
    await writer.close();
    db.close();
    await logDestination?.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new UsageError('PORT_IN_USE', `Port ${options.port} on ${options.host} is already in use.`, { hint: 'Stop the other process or pass --port N (env PORT).' });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EACCES')
      throw new UsageError('LISTEN_FAILED', `Cannot listen on ${options.host}:${options.port} (${code}).`, { hint: 'Check --host and --port.' });
    throw err;
  }
  worker.start();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    app,
    db,
    store,
    writer,
    logsDropped: () => logDestination?.dropped ?? 0,
    close() {
      closing ??= (async () => {
        // fastify.close() stops accepting and waits for in-flight requests, whose writes the writer commits.
        await app.close();
        await writer.close();
        await worker.stop();
        db.close();
        await logDestination?.close();
      })();
      return closing;
    },
  };
}
