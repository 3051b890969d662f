/**
 * `vidpipe listen`: the endpoint an EventBridge API destination posts MediaConvert events to. Settings: flags ›
 * environment (PORT, HOST, VIDPIPE_DATABASE_URL, VIDPIPE_DB) › the config's `listen` section › defaults. The service
 * lives in src/listener/server.ts and is imported only when the verb runs.
 */
import type { Command } from 'commander';
import { DEFAULT_AUTH_HEADER, DEFAULT_LISTEN_HOST, DEFAULT_LISTEN_PORT, DEFAULT_LISTENER_PATH, DEFAULT_SIMULATOR_SOURCE, loadConfig } from '../../config/config.js';
import { secretsPathFor } from '../../config/secrets.js';
import { UsageError } from '../../errors.js';
import { commandContext, parseInteger } from '../context.js';
import { addDatabaseOptions, resolveDatabase, type DatabaseFlags } from '../database-option.js';

interface ListenFlags extends DatabaseFlags {
  port?: string;
  host?: string;
  authHeader?: string;
  insecureNoAuth?: boolean;
  /** commander's --no-dashboard: false when given. */
  dashboard?: boolean;
}

export function registerListen(program: Command): void {
  const cmd = program
    .command('listen')
    .description(`run the endpoint EventBridge posts MediaConvert events to (POST ${DEFAULT_LISTENER_PATH})`)
    .option('--port <n>', 'port to listen on (env PORT; default 3000)')
    .option('--host <host>', 'address to bind (env HOST; default 127.0.0.1)')
    .option('--auth-header <name>', `header carrying the API key (default: the config's listener.authHeader, else ${DEFAULT_AUTH_HEADER})`)
    .option('--insecure-no-auth', 'accept requests without credentials (local experiments only)')
    .option('--no-dashboard', "don't serve the dashboard at / (nor sign-in, live updates, /docs); config: listen.dashboard false");
  addDatabaseOptions(cmd).action(async (flags: ListenFlags, cmd: Command) => {
      const { globals, out } = commandContext(cmd);
      const env = process.env;
      const config = await loadConfig(globals.configPath);
      const pick = (...values: Array<string | number | undefined>) => values.find((v) => v !== undefined && v !== '');
      const portText = String(pick(flags.port, env.PORT, config?.listen?.port, DEFAULT_LISTEN_PORT));
      const port = parseInteger(portText, flags.port !== undefined ? '--port' : env.PORT ? 'PORT' : 'listen.port', 0, 65535);
      const host = String(pick(flags.host, env.HOST, config?.listen?.host, DEFAULT_LISTEN_HOST));
      const { describeLocation } = await import('../../store/open-store.js');
      const database = resolveDatabase(flags, env, config, globals.configPath);
      const header = String(pick(flags.authHeader, config?.listener.authHeader, DEFAULT_AUTH_HEADER));
      if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,256}$/.test(header))
        throw new UsageError('BAD_HEADER_NAME', `--auth-header "${header}" is not a valid HTTP header name.`);

      const { resolveAuth, describeAuth } = await import('../../listener/http/auth.js');
      const { startListener } = await import('../../listener/server.js');
      const secretsFile = secretsPathFor(globals.configPath);
      const auth = resolveAuth({ env, secretsFile, header, insecure: Boolean(flags.insecureNoAuth) });
      if (auth.config.insecure) out.warn('authentication is OFF (--insecure-no-auth): anyone who can reach this port can write events.');
      const reload = auth.config.reload;
      if (reload) {
        // Never the keys themselves: how many, and where from.
        reload.onChange = (next) => out.info(`auth: ${secretsFile} changed; now accepting ${describeAuth(next)}`);
        reload.onError = (err) => out.warn(`auth: ${err.message} Still accepting the previous credentials.`);
      }

      const server = await startListener({
        port,
        host,
        database,
        auth: auth.config,
        processedSources: [config?.simulatorSource ?? DEFAULT_SIMULATOR_SOURCE],
        slackWebhookUrl: env.SLACK_WEBHOOK_URL || undefined,
        dashboard: flags.dashboard === false || config?.listen?.dashboard === false ? false : { ...(config?.region ? { region: config.region } : {}) },
        logLevel: globals.verbosity === 'verbose' ? 'debug' : globals.verbosity === 'quiet' ? 'warn' : 'info',
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
      out.info(`slack: ${env.SLACK_WEBHOOK_URL ? 'notifications on (SLACK_WEBHOOK_URL)' : 'off (set SLACK_WEBHOOK_URL); notifications are recorded as skipped'}`);
      out.info('read API: GET /api/videos, /api/videos/:jobId, /api/posts/:id · health: /healthz, /readyz · Ctrl-C to stop');
      if (flags.dashboard !== false && config?.listen?.dashboard !== false)
        out.info(`dashboard: ${server.url}/ (sign in with the API key${auth.config.basic ? ' or the Basic user and password' : ''}) · API docs: ${server.url}/docs`);

      const signal = await stopSignal;
      out.info(`${signal}: finishing in-flight requests…`);
      await server.close();
      out.info('stopped');
    });
}
