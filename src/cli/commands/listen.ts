/**
 * `vidpipe listen`: the endpoint an EventBridge API destination posts MediaConvert events to. Settings: flags ›
 * environment (PORT, HOST, VIDPIPE_DATABASE_URL, VIDPIPE_DB) › the config's `listen` section › defaults. The service
 * lives in src/listener/server.ts and is imported only when the verb runs.
 */
import type { Command } from 'commander';
import { openSync } from 'node:fs';
import { DEFAULT_AUTH_HEADER, DEFAULT_LISTEN_HOST, DEFAULT_LISTEN_PORT, DEFAULT_LISTENER_PATH, DEFAULT_SIMULATOR_SOURCE, loadConfig } from '../../config/config.js';
import { clientAuthHeaders, clientCredentials, secretsPathFor } from '../../config/secrets.js';
import { UsageError } from '../../errors.js';
import { openAwsSession } from '../aws-session.js';
import { addAwsOptions, awsOptionsFrom, awsTargetFrom, commandContext, parseInteger, parseUrl } from '../context.js';
import { addDatabaseOptions, resolveDatabase, type DatabaseFlags } from '../database-option.js';
import { DEFAULT_CONNECTION_LIMITS, checkConnectionLimits, type ConnectionLimits } from '../../listener/limits.js';
import type { ListenConfig } from '../../config/config.js';
import { summaryOf } from './index.js';
import type { SqliteWriterMode } from '../../store/open-store.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** "Name: value" → [name, value]; values are secrets (never echoed back). */
function parseForwardHeader(text: string): [string, string] {
  const m = /^([A-Za-z0-9!#$%&'*+.^_`|~-]{1,256}):\s*(.*)$/.exec(text);
  if (!m || /[\r\n]/.test(m[2] as string))
    throw new UsageError('BAD_FORWARD_HEADER', `--forward-header must look like "Name: value" (got a value starting "${text.slice(0, Math.min(12, text.indexOf(':') + 1 || 12))}…").`, {
      hint: 'For example --forward-header "Authorization: Bearer …".',
    });
  return [m[1] as string, m[2] as string];
}

/** --log-file: appended to, created 0600 (logs name jobs and posts); a file that cannot be opened is a usage error. */
function openLogFile(file: string): number {
  try {
    return openSync(file, 'a', 0o600);
  } catch (err) {
    throw new UsageError('BAD_LOG_FILE', `Cannot open the log file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, { hint: 'Check the path and its directory.' });
  }
}

/** The forward URL as shown: any userinfo or query string may carry a secret. */
function redactUrlForDisplay(text: string): string {
  const url = new URL(text);
  if (url.username || url.password) url.username = url.password = '***';
  if (url.search) url.search = '?…';
  return url.toString();
}

interface ListenFlags extends DatabaseFlags {
  logFile?: string;
  pull?: boolean;
  queueUrl?: string;
  http?: boolean;
  forwardTo?: string;
  forwardHeader?: string[];
  port?: string;
  host?: string;
  authHeader?: string;
  insecureNoAuth?: boolean;
  /** commander's --no-dashboard: false when given. */
  dashboard?: boolean
  headerTimeout?: string;
  requestTimeout?: string;
  keepAliveTimeout?: string;
  maxConnections?: string;
}

export function registerListen(program: Command): void {
  const cmd = program
    .command('listen')
    .description(summaryOf('listen'))
    .option('--port <n>', 'port to listen on (env PORT; default 3000)')
    .option('--host <host>', 'address to bind (env HOST; default 127.0.0.1)')
    .option('--auth-header <name>', `header carrying the API key (default: the config's listener.authHeader, else ${DEFAULT_AUTH_HEADER})`)
    .option('--insecure-no-auth', 'accept requests without credentials (local experiments only)')
    .option('--no-dashboard', "don't serve the dashboard at / (nor sign-in, live updates, /docs); config: listen.dashboard false")
    .option('--header-timeout <seconds>', `close a connection whose headers take longer (config listen.headerTimeoutSeconds; default ${DEFAULT_CONNECTION_LIMITS.headerTimeoutMs / 1000})`)
    .option('--request-timeout <seconds>', `close a connection whose whole request takes longer (config listen.requestTimeoutSeconds; default ${DEFAULT_CONNECTION_LIMITS.requestTimeoutMs / 1000})`)
    .option('--keep-alive-timeout <seconds>', `close an idle kept-alive connection after (config listen.keepAliveTimeoutSeconds; default ${DEFAULT_CONNECTION_LIMITS.keepAliveTimeoutMs / 1000})`)
    .option('--max-connections <n>', `connections open at once (config listen.maxConnections; default ${DEFAULT_CONNECTION_LIMITS.maxConnections})`)
    .option('--forward-to <url>', "relay every new event to your app, as an API destination would (durable, retried, in order per job)")
    .option('--forward-header <header>', 'a header for --forward-to, "Name: value" (repeatable; replaces the default auth header of that name)', collect, [])
    .option('--pull', 'receive events from the SQS queue of `setup --delivery sqs` instead of (or, with --http, besides) the HTTP endpoint')
    .option('--queue-url <url>', 'the queue --pull reads (default: the config app\'s <app>-events queue)')
    .option('--http', 'with --pull, also serve POST ' + DEFAULT_LISTENER_PATH)
    .option('--log-file <path>', 'write the structured logs (pino JSON) to this file (mode 0600) instead of stdout/stderr');
  addAwsOptions(cmd);
  addDatabaseOptions(cmd).action(async (flags: ListenFlags, cmd: Command) => {
      const { globals, out } = commandContext(cmd);
      const env = process.env;
      const config = await loadConfig(globals.configPath);
      const pick = (...values: Array<string | number | undefined>) => values.find((v) => v !== undefined && v !== '');
      const portText = String(pick(flags.port, env.PORT, config?.listen?.port, DEFAULT_LISTEN_PORT));
      const port = parseInteger(portText, flags.port !== undefined ? '--port' : env.PORT ? 'PORT' : 'listen.port', 0, 65535);
      const host = String(pick(flags.host, env.HOST, config?.listen?.host, DEFAULT_LISTEN_HOST));
      const forwardTo = flags.forwardTo ? parseUrl(flags.forwardTo, '--forward-to').toString() : undefined;
      const forwardHeaders = (flags.forwardHeader ?? []).map(parseForwardHeader);
      if (forwardHeaders.length && !forwardTo) throw new UsageError('BAD_FORWARD_HEADER', '--forward-header needs --forward-to.');
      if ((flags.queueUrl || flags.http) && !flags.pull) throw new UsageError('BAD_PULL', `${flags.queueUrl ? '--queue-url' : '--http'} goes with --pull.`, { hint: 'vidpipe listen --pull [--queue-url URL] [--http]' });
      if (flags.queueUrl) parseUrl(flags.queueUrl, '--queue-url');
      if (flags.pull && !flags.queueUrl && !config)
        throw new UsageError('NO_QUEUE', 'listen --pull needs a queue: there is no vidpipe.config.json here to find it from.', {
          hint: 'Pass --queue-url URL, or run in the folder where `vidpipe setup --delivery sqs` ran (or pass --config).',
        });
      const { describeLocation } = await import('../../store/open-store.js');
      const database = resolveDatabase(flags, env, config, globals.configPath);
      const header = String(pick(flags.authHeader, config?.listener.authHeader, DEFAULT_AUTH_HEADER));
      if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,256}$/.test(header))
        throw new UsageError('BAD_HEADER_NAME', `--auth-header "${header}" is not a valid HTTP header name.`);

      const limits = connectionLimits(flags, config?.listen);
      const writer = sqliteWriterFrom(env);

      const { resolveAuth, describeAuth } = await import('../../listener/http/auth.js');
      const { startListener } = await import('../../listener/server.js');
      const secretsFile = secretsPathFor(globals.configPath);
      const auth = resolveAuth({ env, secretsFile, header, insecure: Boolean(flags.insecureNoAuth) });
      if (auth.config.insecure) out.warn('authentication is OFF (--insecure-no-auth): anyone who can reach this port can write events.');
      const reload = auth.config.reload;
      if (reload) {
        // Never the keys themselves: how many, and where from.
        reload.onChange = (next) => bestEffort(() => out.info(`auth: ${secretsFile} changed; now accepting ${describeAuth(next)}`));
        reload.onError = (err) => bestEffort(() => out.warn(`auth: ${err.message} Still accepting the previous credentials.`));
        reload.onExposed = (err) => bestEffort(() => out.error(`auth: ${err.message} Requests get 503 (EventBridge retries them) until it is fixed.`, err.hint));
      }

      // The queue: --queue-url, or the one setup --delivery sqs made for this config's app (GetQueueUrl).
      const session = flags.pull ? openAwsSession(awsTargetFrom(awsOptionsFrom(cmd.optsWithGlobals()), config?.region), out) : undefined;
      let queueUrl = flags.queueUrl;
      if (session && !queueUrl && config) {
        const { resourceNames } = await import('../../provision/names.js');
        const name = resourceNames(config).eventQueue;
        const { GetQueueUrlCommand } = await import('@aws-sdk/client-sqs');
        const { awsCall } = await import('../../aws/errors.js');
        const sqs = await session.aws.sqs();
        try {
          queueUrl = (await awsCall({ action: 'sqs:GetQueueUrl', resource: name }, () => sqs.send(new GetQueueUrlCommand({ QueueName: name })))).QueueUrl;
        } catch (err) {
          session.close();
          if ((err as { details?: { awsError?: string } }).details?.awsError?.match(/NonExistentQueue|QueueDoesNotExist/))
            throw new UsageError('NO_QUEUE', `The queue ${name} does not exist.`, { hint: 'Run `vidpipe setup --delivery sqs` (or both), or pass --queue-url URL.' });
          throw err;
        }
      }

      // What stdout carries: on a terminal one line per event (the live view); with --json one JSON object per event
      // (NDJSON); otherwise — a service, a pipe — the structured logs, as before. Logs never share stdout with events:
      // beside a live view or NDJSON they go to stderr with --verbose, to --log-file, or nowhere.
      const eventsOut = globals.json ? 'ndjson' : out.stdout.isTTY === true ? 'live' : 'none';
      const verbose = globals.verbosity === 'verbose';
      const logFd = flags.logFile ? openLogFile(flags.logFile) : eventsOut !== 'none' && verbose ? 2 : undefined;
      const logLevel = eventsOut !== 'none' && logFd === undefined ? 'silent' : verbose ? 'debug' : globals.verbosity === 'quiet' ? 'warn' : 'info';
      const show = (line: string) => bestEffort(() => out.stdout.write(`${line}\n`));
      out.stdout.on?.('error', () => undefined); // a reader that went away (| head) must not take the listener down
      const { liveEvent, liveForward, renderLiveEvent, renderLiveForward } = await import('../../listener/live-view.js');

      const server = await startListener({
        port,
        host,
        database,
        auth: auth.config,
        processedSources: [config?.simulatorSource ?? DEFAULT_SIMULATOR_SOURCE],
        limits,
        ...(writer ? { writer } : {}),
        // Once, and only if stderr can take it: a failing stdout must not take the listener down with it.
        onLogFailure: (err) =>
          bestEffort(() => out.warn(`logs: stdout failed (${err.code ?? err.message}); log lines are dropped from now on, events are still stored and acknowledged.`)),
        slackWebhookUrl: env.SLACK_WEBHOOK_URL || undefined,
        dashboard: flags.dashboard === false || config?.listen?.dashboard === false ? false : { ...(config?.region ? { region: config.region } : {}) },
        logLevel,
        ...(logFd !== undefined ? { logFd } : {}),
        ...(eventsOut !== 'none'
          ? {
              onEvent: (answer, event, via) => {
                const e = liveEvent(answer, event, via);
                show(eventsOut === 'ndjson' ? JSON.stringify(e) : renderLiveEvent(e, out.c));
              },
              onForward: (r) => {
                const f = liveForward(r);
                show(eventsOut === 'ndjson' ? JSON.stringify(f) : renderLiveForward(f, out.c));
              },
            }
          : {}),
        ...(session && queueUrl ? { pull: { sqs: await session.aws.sqs(), queueUrl, endpoint: Boolean(flags.http) } } : {}),
        ...(forwardTo
          ? {
              forward: {
                url: forwardTo,
                // The connection's auth header (this listener's own credentials), then --forward-header values.
                headers: { ...(auth.config.insecure ? {} : clientAuthHeaders(clientCredentials({ env, secretsFile }), header)), ...Object.fromEntries(forwardHeaders) },
              },
            }
          : {}),
      });

      // Before the start-up lines: a signal sent the moment they appear must find its handler installed.
      const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      });
      out.success(`listening on ${server.url}${DEFAULT_LISTENER_PATH}`);
      out.info(`database: ${describeLocation(database)} (${server.store.writeMode})`);
      out.info(`auth: ${describeAuth(auth.config)}${auth.config.insecure ? '' : `, from ${auth.source}`}${reload ? ' (changes apply without a restart)' : ''}`);
      if (auth.generatedKey)
        // Printed once, straight to the terminal (never to the logs); it stays in the 0600 secrets file.
        out.stderr.write(
          `\nNo credentials were configured, so a new API key was generated and saved to ${secretsFile} (mode 0600).\n` +
            `Send it in the ${header} header. It is shown only this once:\n\n  ${auth.generatedKey}\n\n`,
        );
      if (queueUrl) out.info(`pulling: ${queueUrl} (long polls of 20 s, batches of 10)${flags.http ? '' : `; POST ${DEFAULT_LISTENER_PATH} is off (add --http)`}`);
      if (forwardTo) out.info(`forwarding: every new event to ${redactUrlForDisplay(forwardTo)}${forwardHeaders.length ? ` with ${forwardHeaders.map(([k]) => k).join(', ')}` : ''}`);
      out.info(`slack: ${env.SLACK_WEBHOOK_URL ? 'notifications on (SLACK_WEBHOOK_URL)' : 'off (set SLACK_WEBHOOK_URL); notifications are recorded as skipped'}`);
      if (flags.logFile) out.info(`logs: ${flags.logFile}`);
      else if (eventsOut !== 'none') out.info(`logs: ${verbose ? 'on stderr' : 'off (-v puts them on stderr, --log-file PATH in a file)'}; ${eventsOut === 'live' ? 'one line per event below' : 'one JSON object per event on stdout'}`);
      if (!queueUrl || flags.http) out.info(`test it: vidpipe simulate-complete --sequence --post 42${server.port === DEFAULT_LISTEN_PORT ? '' : ` (PORT=${server.port})`}`);
      out.info('read API: GET /api/videos, /api/videos/:jobId, /api/posts/:id · health: /healthz, /readyz · Ctrl-C to stop');
      if (flags.dashboard !== false && config?.listen?.dashboard !== false)
        out.info(`dashboard: ${server.url}/ (sign in with the API key${auth.config.basic ? ' or the Basic user and password' : ''}) · API docs: ${server.url}/docs`);

      const signal = await stopSignal;
      out.info(`${signal}: finishing in-flight requests…`);
      await server.close();
      session?.close();
      const dropped = server.logsDropped();
      bestEffort(() => {
        if (dropped) out.warn(`logs: ${dropped} log line${dropped === 1 ? ' was' : 's were'} dropped (stdout failed or could not keep up).`);
        out.info('stopped');
      });
    });
}

/**
 * A message to stderr while the listener runs: if stderr fails too (a full disk), the message is lost, not the
 * request or the shutdown it was said in (a sync write to a failing file throws).
 */
function bestEffort(say: () => void): void {
  try {
    say();
  } catch {
    // Nowhere left to say it.
  }
}

/** Flags › the config's listen section › defaults; seconds may have a fraction (0.5). */
function connectionLimits(flags: ListenFlags, config: ListenConfig | undefined): ConnectionLimits {
  const seconds = (flag: string | undefined, name: string, configured: number | undefined, fallbackMs: number): number => {
    if (flag === undefined) return configured !== undefined ? Math.round(configured * 1000) : fallbackMs;
    const n = Number(flag);
    if (flag.trim() === '' || !Number.isFinite(n)) throw new UsageError('BAD_NUMBER', `${name} must be a number of seconds (e.g. 5 or 0.5), got "${flag}".`);
    return Math.round(n * 1000);
  };
  const limits: ConnectionLimits = {
    headerTimeoutMs: seconds(flags.headerTimeout, '--header-timeout', config?.headerTimeoutSeconds, DEFAULT_CONNECTION_LIMITS.headerTimeoutMs),
    requestTimeoutMs: seconds(flags.requestTimeout, '--request-timeout', config?.requestTimeoutSeconds, DEFAULT_CONNECTION_LIMITS.requestTimeoutMs),
    keepAliveTimeoutMs: seconds(flags.keepAliveTimeout, '--keep-alive-timeout', config?.keepAliveTimeoutSeconds, DEFAULT_CONNECTION_LIMITS.keepAliveTimeoutMs),
    maxConnections:
      flags.maxConnections !== undefined ? parseInteger(flags.maxConnections, '--max-connections', 1, 65_535) : (config?.maxConnections ?? DEFAULT_CONNECTION_LIMITS.maxConnections),
  };
  // The default header timeout gives way to a shorter request timeout the user chose (it could never apply).
  if (flags.headerTimeout === undefined && config?.headerTimeoutSeconds === undefined) limits.headerTimeoutMs = Math.min(limits.headerTimeoutMs, limits.requestTimeoutMs);
  const problems = checkConnectionLimits(limits, {
    headerTimeoutMs: flags.headerTimeout !== undefined ? '--header-timeout' : 'listen.headerTimeoutSeconds',
    requestTimeoutMs: flags.requestTimeout !== undefined ? '--request-timeout' : 'listen.requestTimeoutSeconds',
    keepAliveTimeoutMs: flags.keepAliveTimeout !== undefined ? '--keep-alive-timeout' : 'listen.keepAliveTimeoutSeconds',
    maxConnections: flags.maxConnections !== undefined ? '--max-connections' : 'listen.maxConnections',
  });
  if (problems.length) throw new UsageError('BAD_LIMITS', `${problems.join('; ')}.`, { hint: 'See `vidpipe listen --help` for the defaults.' });
  return limits;
}

/** VIDPIPE_SQLITE_WRITER: where SQLite commits run (default auto: inline on 1–2 cores, a worker thread from 3). */
function sqliteWriterFrom(env: NodeJS.ProcessEnv): SqliteWriterMode | undefined {
  const value = env.VIDPIPE_SQLITE_WRITER?.trim();
  if (!value) return undefined;
  if (value === 'inline' || value === 'thread' || value === 'auto') return value;
  throw new UsageError('BAD_SQLITE_WRITER', `VIDPIPE_SQLITE_WRITER="${value}" is not one of inline, thread, auto.`, {
    hint: 'Unset it (auto: inline on 1–2 cores, a worker thread from 3) or set inline, thread or auto.',
  });
}
