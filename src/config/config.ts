/**
 * vidpipe.config.json: what `vidpipe init` writes and every verb reads. Validated by a JSON schema (ajv) so a bad
 * field is named with what it should be. The file holds no secret: keys live in the secrets file (./secrets.ts).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { JOB_STATUSES, type JobStatus } from '../events/types.js';

import { JOB_TEMPLATE_NAMES, type JobTemplateName } from '../../templates/job-templates.js';

export interface RetryPolicyConfig {
  /** 0–185 (EventBridge RetryPolicy). */
  maximumRetryAttempts: number;
  /** 60–86400 seconds. */
  maximumEventAgeInSeconds: number;
}

export interface ListenConfig {
  port?: number;
  host?: string;
  db?: string;
  /** SQLite path or PostgreSQL URL (no password: see listen.ts). */
  database?: string;
  /** false: no dashboard at / (same as `listen --no-dashboard`). */
  dashboard?: boolean;
  /** Slow-client limits (src/listener/limits.ts has the defaults and why). */
  headerTimeoutSeconds?: number;
  requestTimeoutSeconds?: number;
  keepAliveTimeoutSeconds?: number;
  maxConnections?: number;
}

export interface VidpipeConfig {
  /** Lower-case name every AWS resource name is derived from. */
  app: string;
  region?: string;
  inputBucket: string;
  outputBucket: string;
  listener: {
    /** The listener's public HTTPS URL, the API destination's endpoint (full path included). */
    url?: string;
    /** How the EventBridge connection authenticates: an API key header, or Basic. */
    auth: 'API_KEY' | 'BASIC';
    /** The API key header name (EventBridge ApiKeyName). */
    authHeader: string;
  };
  /** Settings of the local `vidpipe listen`, below flags and environment. */
  listen?: ListenConfig;
  templates: JobTemplateName[];
  /** MediaConvert statuses the rule forwards. */
  statuses: JobStatus[];
  trigger: 'lambda' | 'none';
  /** Optional S3 key suffix filter for the trigger (e.g. ".mp4"). */
  triggerSuffix?: string;
  /** API destination InvocationRateLimitPerSecond. */
  rateLimitPerSecond: number;
  retryPolicy: RetryPolicyConfig;
  deadLetterQueue: boolean;
  /** Also match the simulator's custom source in the rule, so `simulate-complete --via eventbridge` reaches the listener. */
  allowSimulatorSource: boolean;
  simulatorSource: string;
  alarmEmail?: string;
  /** Days the EventBridge archive keeps the rule's events for `vidpipe replay` (default 7; 0 = no archive). */
  archiveRetentionDays?: number;
  /**
   * How the rule delivers events (default api-destination): POST to listener.url through an API destination, into an
   * SQS queue that `vidpipe listen --pull` reads (no public URL needed), or both.
   */
  delivery?: DeliveryMode;
}

export const DELIVERY_MODES = ['api-destination', 'sqs', 'both'] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];
export const DEFAULT_DELIVERY: DeliveryMode = 'api-destination';

/** The config's delivery mode, else the default. */
export function deliveryOf(config: Pick<VidpipeConfig, 'delivery'>): DeliveryMode {
  return config.delivery ?? DEFAULT_DELIVERY;
}

/** true when the rule POSTs to the listener through an API destination (connection, destination, invoke role). */
export function usesApiDestination(config: Pick<VidpipeConfig, 'delivery'>): boolean {
  return deliveryOf(config) !== 'sqs';
}

/** true when the rule delivers into the SQS event queue that `vidpipe listen --pull` reads. */
export function usesEventQueue(config: Pick<VidpipeConfig, 'delivery'>): boolean {
  return deliveryOf(config) !== 'api-destination';
}

/** A --delivery value checked at the edge: the mode, or a usage error naming the choices. */
export function parseDelivery(value: string, flag = '--delivery'): DeliveryMode {
  if ((DELIVERY_MODES as readonly string[]).includes(value)) return value as DeliveryMode;
  throw new UsageError('BAD_DELIVERY', `${flag} must be one of ${DELIVERY_MODES.join(', ')}, got "${value}".`, {
    hint: 'api-destination: EventBridge POSTs to your public HTTPS listener URL; sqs: events wait in an SQS queue for `vidpipe listen --pull` (no public URL); both: the two at once.',
  });
}

export const DEFAULT_ARCHIVE_RETENTION_DAYS = 7;

/** The archive's retention: the config's, else the default; 0 means no archive. */
export function archiveRetentionDays(config: Pick<VidpipeConfig, 'archiveRetentionDays'>): number {
  return config.archiveRetentionDays ?? DEFAULT_ARCHIVE_RETENTION_DAYS;
}

export const DEFAULT_SIMULATOR_SOURCE = 'vidpipe.simulator';
export const DEFAULT_AUTH_HEADER = 'x-api-key';
export { DEFAULT_LISTENER_PATH } from './listener-path.js';
export const DEFAULT_LISTEN_HOST = '127.0.0.1';
export const DEFAULT_LISTEN_PORT = 3000;

/**
 * Where a local `vidpipe listen` started with the same settings is reached (http://host:port, no path): HOST/PORT from
 * the environment › the config's listen section › 127.0.0.1:3000. A listener bound to every interface is reached on
 * loopback.
 */
export function localListenerOrigin(config: VidpipeConfig | undefined, env: NodeJS.ProcessEnv = {}): string {
  const configured = env.HOST || config?.listen?.host;
  const host = !configured || configured === '0.0.0.0' || configured === '::' ? DEFAULT_LISTEN_HOST : configured;
  const port = env.PORT || config?.listen?.port || DEFAULT_LISTEN_PORT;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function defaultConfig(app: string): VidpipeConfig {
  return {
    app,
    inputBucket: `${app}-input`,
    outputBucket: `${app}-output`,
    listener: { auth: 'API_KEY', authHeader: DEFAULT_AUTH_HEADER },
    templates: ['mp4', 'hls', 'thumbnails'],
    statuses: ['COMPLETE', 'ERROR'],
    trigger: 'lambda',
    rateLimitPerSecond: 10,
    retryPolicy: { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 86400 },
    deadLetterQueue: true,
    allowSimulatorSource: false,
    simulatorSource: DEFAULT_SIMULATOR_SOURCE,
  };
}

// S3 bucket naming rules (3–63 chars, lower-case letters, digits, dots and hyphens, starting and ending alphanumeric).
const BUCKET = '^(?!xn--)(?!.*\\.\\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$';

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['app', 'inputBucket', 'outputBucket', 'listener', 'templates', 'statuses', 'trigger', 'rateLimitPerSecond', 'retryPolicy', 'deadLetterQueue', 'allowSimulatorSource', 'simulatorSource'],
  properties: {
    $schema: { type: 'string' },
    // Names derived from it must fit IAM role names (64) and API destination names (64) with a suffix.
    app: { type: 'string', pattern: '^[a-z][a-z0-9-]{1,30}[a-z0-9]$' },
    region: { type: 'string', pattern: '^[a-z]{2}(-[a-z]+)+-\\d$' },
    inputBucket: { type: 'string', pattern: BUCKET },
    outputBucket: { type: 'string', pattern: BUCKET },
    listener: {
      type: 'object',
      additionalProperties: false,
      required: ['auth', 'authHeader'],
      properties: {
        url: { type: 'string', pattern: '^https?://' },
        auth: { enum: ['API_KEY', 'BASIC'] },
        authHeader: { type: 'string', pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,256}$" },
      },
    },
    listen: {
      type: 'object',
      additionalProperties: false,
      properties: {
        port: { type: 'integer', minimum: 0, maximum: 65535 },
        host: { type: 'string', minLength: 1 },
        db: { type: 'string', minLength: 1 },
        // A SQLite path or a PostgreSQL URL without a password (the config is under version control: the password
        // comes from VIDPIPE_DATABASE_URL, PGPASSWORD or ~/.pgpass).
        database: { type: 'string', minLength: 1 },
        dashboard: { type: 'boolean' },
        headerTimeoutSeconds: { type: 'number', minimum: 0.1, maximum: 3600 },
        requestTimeoutSeconds: { type: 'number', minimum: 0.1, maximum: 3600 },
        keepAliveTimeoutSeconds: { type: 'number', minimum: 0.1, maximum: 3600 },
        maxConnections: { type: 'integer', minimum: 1, maximum: 65535 },
      },
    },
    templates: { type: 'array', uniqueItems: true, items: { enum: [...JOB_TEMPLATE_NAMES] } },
    statuses: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...JOB_STATUSES] } },
    trigger: { enum: ['lambda', 'none'] },
    triggerSuffix: { type: 'string', maxLength: 64 },
    rateLimitPerSecond: { type: 'integer', minimum: 1, maximum: 300 },
    retryPolicy: {
      type: 'object',
      additionalProperties: false,
      required: ['maximumRetryAttempts', 'maximumEventAgeInSeconds'],
      properties: {
        maximumRetryAttempts: { type: 'integer', minimum: 0, maximum: 185 },
        maximumEventAgeInSeconds: { type: 'integer', minimum: 60, maximum: 86400 },
      },
    },
    deadLetterQueue: { type: 'boolean' },
    allowSimulatorSource: { type: 'boolean' },
    simulatorSource: { type: 'string', pattern: '^(?!aws\\.)[A-Za-z0-9._-]{1,256}$' },
    alarmEmail: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$' },
    // 0 turns the archive off. AWS would read RetentionDays 0 as "forever"; ten years is plenty for a replay.
    archiveRetentionDays: { type: 'integer', minimum: 0, maximum: 3650 },
    delivery: { enum: [...DELIVERY_MODES] },
  },
} as const;

type AjvErrors = { instancePath: string; message?: string; params: Record<string, unknown>; data?: unknown }[];

/** What each pattern above means, in words: "must match pattern \"^[a-z]…\"" tells a user nothing. */
const PATTERN_WORDS: Record<string, string> = {
  [configSchema.properties.app.pattern]: 'must be 3-32 lower-case letters, digits or hyphens, starting with a letter (every AWS resource name starts with it)',
  [configSchema.properties.region.pattern]: 'must be an AWS region name such as us-east-1',
  [BUCKET]: 'must be an S3 bucket name: 3-63 lower-case letters, digits, dots or hyphens, starting and ending with a letter or digit',
  [configSchema.properties.listener.properties.url.pattern]: 'must be a URL starting with https:// (EventBridge calls only HTTPS; http:// is kept for local tests)',
  [configSchema.properties.listener.properties.authHeader.pattern]: 'must be an HTTP header name (letters, digits and -, no spaces)',
  [configSchema.properties.simulatorSource.pattern]: 'must be 1-256 letters, digits, dots, hyphens or underscores, not starting with "aws." (reserved for AWS services)',
  [configSchema.properties.alarmEmail.pattern]: 'must be an e-mail address',
};

let compiled: ((data: unknown) => boolean) & { errors?: AjvErrors | null } | undefined;

async function validator() {
  if (!compiled) {
    const { Ajv } = await import('ajv');
    // verbose: errors carry the offending value, so a message can quote it.
    compiled = new Ajv({ allErrors: true, strict: false, verbose: true }).compile(configSchema);
  }
  return compiled;
}

/** Names each bad field the way a user reads it: `region: must be an AWS region name such as us-east-1, got "nowhere-1"`. */
export function describeSchemaErrors(errors: AjvErrors | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const where = e.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(top level)';
    if (e.params.additionalProperty) return `${where === '(top level)' ? '' : `${where}.`}${String(e.params.additionalProperty)}: is not a known field`;
    if (e.params.missingProperty) return `${where === '(top level)' ? '' : `${where}.`}${String(e.params.missingProperty)}: is required`;
    if (e.params.allowedValues) return `${where}: must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
    const words = typeof e.params.pattern === 'string' ? PATTERN_WORDS[e.params.pattern] : undefined;
    const got = typeof e.data === 'string' || typeof e.data === 'number' ? `, got ${JSON.stringify(e.data)}` : '';
    return `${where}: ${words ?? e.message ?? 'is invalid'}${got}`;
  });
}

/** A valid app name from a folder name ("My Video Site" → "my-video-site"), else "vidpipe". */
export function appNameFrom(folder: string): string {
  const cleaned = folder
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, 32)
    .replace(/-+$/, '');
  return cleaned.length >= 3 ? cleaned : 'vidpipe';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Fills what a config leaves out with the defaults the README documents (issue 12, item 13): any subset is accepted
 * when the defaults complete it. `app` defaults to the config's folder name when that is a valid app name; the buckets
 * follow the app. Objects (listener, retryPolicy) are completed field by field. Anything that is not an object is
 * returned as is, for the schema to name. (`vidpipe init` derives the app name the same way.)
 */
export function completeConfig(data: unknown, folderName: string): unknown {
  if (!isObject(data)) return data;
  const app = typeof data.app === 'string' ? data.app : appNameFrom(folderName);
  const defaults = defaultConfig(app) as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { ...defaults, ...data, app };
  for (const key of ['listener', 'retryPolicy'] as const) if (isObject(data[key])) out[key] = { ...(defaults[key] as object), ...data[key] };
  return out;
}

export async function validateConfig(data: unknown, source: string): Promise<VidpipeConfig> {
  const validate = await validator();
  if (!validate(data)) {
    const problems = describeSchemaErrors(validate.errors);
    throw new UsageError('CONFIG_INVALID', `${source} is not valid:\n  ${problems.join('\n  ')}`, {
      hint: 'Fix the field(s) named above, or run `vidpipe init` to write a new config.',
      details: { problems },
    });
  }
  return data as VidpipeConfig;
}

/** Loads the config if the file exists; undefined when it does not. */
export async function loadConfig(configPath: string): Promise<VidpipeConfig | undefined> {
  if (!existsSync(configPath)) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (err) {
    throw new UsageError('CONFIG_UNREADABLE', `${configPath} is not valid JSON: ${(err as Error).message}`, {
      hint: 'Fix the JSON, or run `vidpipe init` to write a new config.',
    });
  }
  return validateConfig(completeConfig(data, path.basename(path.dirname(path.resolve(configPath)))), path.basename(configPath));
}

/** Loads the config, or says how to make one. */
export async function requireConfig(configPath: string): Promise<VidpipeConfig> {
  const config = await loadConfig(configPath);
  if (!config)
    throw new UsageError('CONFIG_MISSING', `No config at ${configPath}.`, {
      hint: 'Run `vidpipe init` first (or pass --config PATH).',
    });
  return config;
}

/** Writes atomically (temp file + rename), so a crash never leaves half a config. */
export async function saveConfig(configPath: string, config: VidpipeConfig): Promise<void> {
  await validateConfig(config, path.basename(configPath));
  const tmp = `${configPath}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`);
  renameSync(tmp, configPath);
}
