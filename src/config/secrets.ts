/**
 * The local secrets file, `.vidpipe/secrets.json` beside vidpipe.config.json: mode 0600 in a 0700 folder, git-ignored.
 * It holds the API keys the listener accepts (newest first; the first is the one clients send and the EventBridge
 * connection uses) and optionally Basic credentials. Its contents never go to a log, an error message or the database.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';

export interface Secrets {
  /** Newest first. During a rotation the listener accepts every key here. */
  apiKeys: string[];
  /** "user:pass" for a BASIC connection. */
  basicAuth?: string;
}

export function secretsPathFor(configPath: string): string {
  return path.join(path.dirname(configPath), '.vidpipe', 'secrets.json');
}

/** 32 random bytes from the CSPRNG, URL-safe: fits an HTTP header and EventBridge's ApiKeyValue (≤ 512 chars). */
export function generateApiKey(): string {
  return `vp_${randomBytes(32).toString('base64url')}`;
}

/**
 * The secrets file can be read or written by someone other than its owner. Like ssh with a private key, vidpipe then
 * refuses it rather than tighten the mode back quietly: the keys may already have been read, and only a rotation
 * makes them worthless. Exit code 2 (a configuration problem the user fixes).
 */
export class SecretsExposedError extends UsageError {
  constructor(
    readonly file: string,
    readonly mode: number,
  ) {
    super(
      'SECRETS_EXPOSED',
      `${file} is accessible by others (mode 0${mode.toString(8).padStart(3, '0')}): the API keys in it may have been read, so it is not used.`,
      {
        hint: `Run \`chmod 600 ${file}\`, then rotate the key: \`vidpipe setup --rotate-key\` (and copy the new file to the listener's host).`,
      },
    );
    this.name = 'SecretsExposedError';
  }
}

/** Refuses a secrets file with any group or other permission bits (POSIX only: Windows has no such bits). */
export function assertSecretsPrivate(file: string): void {
  if (process.platform === 'win32') return;
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) throw new SecretsExposedError(file, mode);
}

export function readSecrets(file: string): Secrets | undefined {
  if (!existsSync(file)) return undefined;
  // Before reading: a file others can read is refused whatever it holds.
  assertSecretsPrivate(file);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // Never echo the content: it is a secret.
    throw new UsageError('SECRETS_UNREADABLE', `${file} is not valid JSON.`, {
      hint: 'Delete it to have `vidpipe listen` generate a new key (then update the EventBridge connection with `vidpipe setup --rotate-key`).',
    });
  }
  const s = data as Partial<Secrets>;
  if (!Array.isArray(s.apiKeys) || s.apiKeys.some((k) => typeof k !== 'string' || k === '') || (s.basicAuth !== undefined && typeof s.basicAuth !== 'string'))
    throw new UsageError('SECRETS_INVALID', `${file} does not have the expected shape {"apiKeys": ["..."]}.`, {
      hint: 'Delete it to have `vidpipe listen` generate a new key.',
    });
  return { apiKeys: s.apiKeys, ...(s.basicAuth ? { basicAuth: s.basicAuth } : {}) };
}

export function writeSecrets(file: string, secrets: Secrets): void {
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The folder is ignored by git on its own, whatever the project's .gitignore says.
  const ignore = path.join(dir, '.gitignore');
  if (!existsSync(ignore)) writeFileSync(ignore, '*\n', { mode: 0o644 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Adds a new key in front; keeps at most `keep` keys so an old one stops working after the next rotation. */
export function rotateApiKey(file: string, keep = 2): { key: string; secrets: Secrets } {
  const current = readSecrets(file) ?? { apiKeys: [] };
  const key = generateApiKey();
  const secrets: Secrets = { ...current, apiKeys: [key, ...current.apiKeys].slice(0, keep) };
  writeSecrets(file, secrets);
  return { key, secrets };
}

export interface CredentialSources {
  env: NodeJS.ProcessEnv;
  secretsFile: string;
}

/** The keys VIDPIPE_API_KEY gives (comma-separated). */
export function apiKeysFromEnv(env: NodeJS.ProcessEnv): string[] {
  return (env.VIDPIPE_API_KEY ?? '').split(',').map((k) => k.trim()).filter(Boolean);
}

/** VIDPIPE_API_KEY (comma-separated) wins over the secrets file. */
export function acceptedApiKeys({ env, secretsFile }: CredentialSources): string[] {
  const fromEnv = apiKeysFromEnv(env);
  if (fromEnv.length) return fromEnv;
  return readSecrets(secretsFile)?.apiKeys ?? [];
}

export function basicAuth({ env, secretsFile }: CredentialSources): string | undefined {
  const value = env.VIDPIPE_BASIC_AUTH || readSecrets(secretsFile)?.basicAuth;
  if (value !== undefined && !/^[^:]+:.+$/.test(value))
    throw new UsageError('BASIC_AUTH_INVALID', 'VIDPIPE_BASIC_AUTH must look like user:password.');
  return value;
}

export interface ClientCredentials {
  apiKey?: string;
  basicAuth?: string;
}

/** The credentials a client (simulate-complete, upload --wait) sends: the newest API key, else Basic. */
export function clientCredentials(sources: CredentialSources): ClientCredentials {
  const key = acceptedApiKeys(sources)[0];
  if (key) return { apiKey: key };
  const basic = basicAuth(sources);
  return basic ? { basicAuth: basic } : {};
}

/** The header an EventBridge connection would add: `<ApiKeyName>: <key>`, or Basic. */
export function clientAuthHeaders(credentials: ClientCredentials, apiKeyHeader: string): Record<string, string> {
  if (credentials.apiKey) return { [apiKeyHeader]: credentials.apiKey };
  if (credentials.basicAuth) return { Authorization: `Basic ${Buffer.from(credentials.basicAuth).toString('base64')}` };
  return {};
}
