/**
 * How the listener authenticates, the ways an EventBridge connection can (aws-facts.md §1.2): an API key in a header,
 * or HTTP Basic. Credentials are compared in constant time over SHA-256 digests (equal lengths, so timingSafeEqual
 * never throws and the key's length does not leak), and every accepted key is checked, so the time does not say which
 * one matched.
 *
 * Credentials from the secrets file are re-read when the file changes (checked at most once a second, on a request),
 * so `vidpipe setup --rotate-key` takes effect without a restart; VIDPIPE_API_KEY / VIDPIPE_BASIC_AUTH stay fixed.
 *
 * A change of mode is a change too. A secrets file that becomes readable by others while the listener runs is
 * treated as it is at start (refused, as ssh refuses an exposed key): its keys may have been read, so they stop being
 * accepted until the file is private again. Requests are then answered 'unavailable' (503 with Retry-After), not 401:
 * EventBridge retries 5xx under every version of its documentation ("Retries events associated with error codes 401,
 * 407, 409, 429, and 5xx", EventBridge user guide, eb-api-destinations.html; older versions named only 429 and 5xx),
 * for up to the retry policy's age (24 h by default), so no event is lost while the operator runs `chmod 600` and
 * rotates the key. Keeping on accepting possibly-read keys would be the silent choice the issue asks us not to make.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import { statSync } from 'node:fs';
import { SecretsExposedError, acceptedApiKeys, apiKeysFromEnv, basicAuth, generateApiKey, readSecrets, writeSecrets } from '../../config/secrets.js';
import { DEFAULT_AUTH_HEADER } from '../../config/config.js';

export interface AuthConfig {
  /** Lower-case header name carrying the API key. */
  header: string;
  apiKeys: string[];
  /** "user:pass". */
  basic?: string;
  /** --insecure-no-auth: every request is let in. */
  insecure: boolean;
  /** Set when some credentials come from the secrets file: the authenticator follows the file's changes. */
  reload?: CredentialReload;
}

export interface CredentialReload {
  secretsFile: string;
  /** The environment read at start: its VIDPIPE_API_KEY / VIDPIPE_BASIC_AUTH win over the file, as at start. */
  env: NodeJS.ProcessEnv;
  /** Minimum time between two looks at the file (default 1000 ms): one stat per interval, on a request. */
  intervalMs?: number;
  /** After a change was applied, with the new config: describe it with describeAuth(), never log its keys. */
  onChange?(config: AuthConfig): void;
  /** The file became unreadable, invalid or empty: the previous credentials stay in force. */
  onError?(err: Error): void;
  /** The file became readable by others: its credentials are no longer accepted (until it is private again). */
  onExposed?(err: SecretsExposedError): void;
  now?(): number;
}

/** 'unavailable': the secrets file is exposed, no credential is accepted for now (see the top of this file). */
export type AuthResult = 'ok' | 'missing' | 'wrong' | 'unavailable';

// crypto.hash (Node ≥ 20.12, package.json's engines) is one call without a Hash object: half of createHash()'s cost
// (1.3 against 2.5 µs here) on every request's credential check (issue 17, the duplicate path's profile).
const digest = (value: string) => hash('sha256', value, 'buffer');

function matchesAny(presented: string, accepted: Buffer[]): boolean {
  const d = digest(presented);
  let ok = false;
  for (const a of accepted) ok = timingSafeEqual(d, a) || ok;
  return ok;
}

interface Digests {
  keys: Buffer[];
  basic: Buffer[];
  /** Set while the secrets file is exposed. */
  unavailable?: boolean;
}

const digestsOf = (config: Pick<AuthConfig, 'apiKeys' | 'basic'>): Digests => ({
  keys: config.apiKeys.map(digest),
  basic: config.basic === undefined ? [] : [digest(config.basic)],
});

const fingerprint = (d: Digests) => [...d.keys, Buffer.from('|'), ...d.basic].map((b) => b.toString('hex')).join('');

/**
 * What identifies one version of the file: writeSecrets() renames a new file into place, so the inode changes too;
 * `chmod` changes only the mode (and ctime), so the mode is part of it.
 */
function fileVersion(file: string): string {
  try {
    const st = statSync(file);
    return `${st.ino}:${st.mtimeMs}:${st.size}:${st.mode}`;
  } catch {
    return 'absent';
  }
}

export type Authenticator = ((headers: Record<string, string | string[] | undefined>) => AuthResult) & {
  /**
   * A value that changes whenever the accepted credentials change (a rotation, a removed key): dashboard sessions are
   * signed with a key derived from it, so a rotation ends them. Derived from the keys' digests, so as secret as they are.
   */
  credentialsFingerprint(): string;
};

/** Builds the per-request check: digests of the accepted credentials are computed once per version of them. */
export function createAuthenticator(config: AuthConfig): Authenticator {
  if (config.insecure) return Object.assign(() => 'ok' as const, { credentialsFingerprint: () => 'insecure-no-auth' });
  // One reference swapped whole: a request sees either the old set or the new one, never a mix.
  let current = digestsOf(config);
  const refresh = config.reload ? createRefresher(config, config.reload, (next) => (current = next)) : undefined;
  const credentialsFingerprint = () => {
    refresh?.();
    return fingerprint(current);
  };
  return Object.assign(check, { credentialsFingerprint });
  function check(headers: Record<string, string | string[] | undefined>): AuthResult {
    refresh?.();
    const { keys, basic, unavailable } = current;
    const key = headers[config.header];
    const authorization = headers.authorization;
    let presented = false;
    if (typeof key === 'string' && keys.length) {
      presented = true;
      if (matchesAny(key, keys)) return 'ok';
    }
    if (typeof authorization === 'string' && basic.length) {
      const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
      presented = true;
      if (m && matchesAny(Buffer.from(m[1] as string, 'base64').toString('utf8'), basic)) return 'ok';
    }
    return unavailable ? 'unavailable' : presented ? 'wrong' : 'missing';
  }
}

function createRefresher(config: AuthConfig, reload: CredentialReload, swap: (next: Digests) => void): () => void {
  const now = reload.now ?? Date.now;
  const interval = reload.intervalMs ?? 1000;
  let checkedAt = now();
  let version = fileVersion(reload.secretsFile);
  let known = fingerprint(digestsOf(config));
  return () => {
    if (now() - checkedAt < interval) return;
    checkedAt = now();
    const seen = fileVersion(reload.secretsFile);
    if (seen === version) return;
    version = seen;
    try {
      const sources = { env: reload.env, secretsFile: reload.secretsFile };
      const apiKeys = acceptedApiKeys(sources);
      const basic = basicAuth(sources);
      if (!apiKeys.length && !basic) throw new Error(`${reload.secretsFile} has no credentials left`);
      const next: AuthConfig = { ...config, apiKeys };
      if (basic) next.basic = basic;
      else delete next.basic;
      const digests = digestsOf(next);
      if (fingerprint(digests) === known) return;
      known = fingerprint(digests);
      swap(digests);
      reload.onChange?.(next);
    } catch (err) {
      if (err instanceof SecretsExposedError) {
        // Nothing from an exposed file is trusted (see the top of this file); when it is private again, the next
        // look swaps its keys back in and reports it through onChange.
        known = '';
        // Credentials from the environment do not come from the file: they still work.
        swap({ ...digestsOf({ apiKeys: apiKeysFromEnv(reload.env), basic: reload.env.VIDPIPE_BASIC_AUTH || undefined }), unavailable: true });
        reload.onExposed?.(err);
        return;
      }
      // Keep what works rather than lock EventBridge out (or let everyone in) over a bad edit.
      reload.onError?.(err as Error);
    }
  };
}

export function describeAuth(config: AuthConfig): string {
  if (config.insecure) return 'none (--insecure-no-auth)';
  const ways: string[] = [];
  if (config.apiKeys.length) ways.push(`API key in header ${config.header} (${config.apiKeys.length} accepted)`);
  if (config.basic) ways.push('HTTP Basic');
  return ways.join(' or ');
}

export interface ResolveAuthOptions {
  env: NodeJS.ProcessEnv;
  secretsFile: string;
  header?: string;
  insecure: boolean;
}

export interface ResolvedAuth {
  config: AuthConfig;
  /** Where the credentials come from, for the start-up line (never the credentials themselves). */
  source: string;
  /** Set only when this call generated (and saved) a new key: print it once. */
  generatedKey?: string;
}

/** VIDPIPE_API_KEY / VIDPIPE_BASIC_AUTH, else the secrets file; with neither, a new key is generated and saved. */
export function resolveAuth(options: ResolveAuthOptions): ResolvedAuth {
  const header = (options.header ?? DEFAULT_AUTH_HEADER).toLowerCase();
  if (options.insecure) return { config: { header, apiKeys: [], insecure: true }, source: 'disabled' };
  const sources = { env: options.env, secretsFile: options.secretsFile };
  const apiKeys = acceptedApiKeys(sources);
  const basic = basicAuth(sources);
  if (apiKeys.length || basic) {
    const where = new Set<string>();
    if (apiKeys.length) where.add(options.env.VIDPIPE_API_KEY?.trim() ? 'VIDPIPE_API_KEY' : options.secretsFile);
    if (basic) where.add(options.env.VIDPIPE_BASIC_AUTH ? 'VIDPIPE_BASIC_AUTH' : options.secretsFile);
    const fixed = Boolean(options.env.VIDPIPE_API_KEY?.trim() && options.env.VIDPIPE_BASIC_AUTH);
    return {
      config: { header, apiKeys, ...(basic ? { basic } : {}), insecure: false, ...(fixed ? {} : { reload: { secretsFile: options.secretsFile, env: options.env } }) },
      source: [...where].join(' + '),
    };
  }
  const key = generateApiKey();
  const current = readSecrets(options.secretsFile);
  writeSecrets(options.secretsFile, { ...(current ?? {}), apiKeys: [key] });
  return {
    config: { header, apiKeys: [key], insecure: false, reload: { secretsFile: options.secretsFile, env: options.env } },
    source: options.secretsFile,
    generatedKey: key,
  };
}
