/**
 * The one place `vidpipe local` starts the listener (src/listener/server.ts), so that changes to startListener's
 * options are adapted here only. vidpipe local talks to the listener over HTTP, like EventBridge and the read API's
 * clients do; nothing here reaches into the listener's store.
 */
import { DEFAULT_LISTENER_PATH } from '../config/config.js';
import { clientAuthHeaders, clientCredentials } from '../config/secrets.js';

export interface LocalListenerOptions {
  port: number;
  host: string;
  /** Where the listener keeps its data: a SQLite path, or any --database location. */
  database: string;
  /** The secrets file (.vidpipe/secrets.json beside the config). */
  secretsFile: string;
  authHeader: string;
  processedSources: readonly string[];
  env: NodeJS.ProcessEnv;
  logLevel: string;
  logStream?: NodeJS.WritableStream;
  /** `vidpipe local --forward-to`: relay every event to the user's app, as `listen --forward-to` does. */
  forwardTo?: string;
  /** Folder storage: the dashboard reads s3://bucket/key outputs from <storageDir>/<bucket>/<key> to show and play them. */
  storageDir?: string;
}

export interface LocalListener {
  /** http://host:port */
  url: string;
  /** Where events are POSTed. */
  ingestUrl: URL;
  /** What a client (or an API destination) sends to authenticate. Never logged. */
  clientHeaders: Record<string, string>;
  /** "API key in x-api-key, from …" */
  authDescription: string;
  /** A key generated on this start (shown once), if none was configured. */
  generatedKey?: string;
  close(): Promise<void>;
}

export async function startLocalListener(o: LocalListenerOptions): Promise<LocalListener> {
  const { resolveAuth, describeAuth } = await import('../listener/http/auth.js');
  const { parseDatabaseLocation } = await import('../store/open-store.js');
  const { startListener } = await import('../listener/server.js');
  const auth = resolveAuth({ env: o.env, secretsFile: o.secretsFile, header: o.authHeader, insecure: false });
  const clientHeaders = clientAuthHeaders(clientCredentials({ env: o.env, secretsFile: o.secretsFile }), o.authHeader);
  const server = await startListener({
    port: o.port,
    host: o.host,
    // The local state folder is vidpipe's own: its directory may be created.
    database: parseDatabaseLocation(o.database, { isDefault: true }),
    ...(o.forwardTo ? { forward: { url: o.forwardTo, headers: clientHeaders } } : {}),
    auth: auth.config,
    processedSources: o.processedSources,
    slackWebhookUrl: o.env.SLACK_WEBHOOK_URL || undefined,
    logLevel: o.logLevel,
    ...(o.storageDir ? { dashboard: { storageDir: o.storageDir } } : {}),
    ...(o.logStream ? { logStream: o.logStream } : {}),
  });
  const base = server.url.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//127.0.0.1:');
  return {
    url: base,
    ingestUrl: new URL(DEFAULT_LISTENER_PATH, base),
    clientHeaders,
    authDescription: `${describeAuth(auth.config)}, from ${auth.source}`,
    ...(auth.generatedKey ? { generatedKey: auth.generatedKey } : {}),
    close: () => server.close(),
  };
}
