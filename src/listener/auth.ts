/**
 * How the listener authenticates, the ways an EventBridge connection can (aws-facts.md §1.2): an API key in a header,
 * or HTTP Basic. Credentials are compared in constant time over SHA-256 digests (equal lengths, so timingSafeEqual
 * never throws and the key's length does not leak), and every accepted key is checked, so the time does not say which
 * one matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { acceptedApiKeys, basicAuth, generateApiKey, readSecrets, writeSecrets } from '../config/secrets.js';
import { DEFAULT_AUTH_HEADER } from '../config/config.js';

export interface AuthConfig {
  /** Lower-case header name carrying the API key. */
  header: string;
  apiKeys: string[];
  /** "user:pass". */
  basic?: string;
  /** --insecure-no-auth: every request is let in. */
  insecure: boolean;
}

export type AuthResult = 'ok' | 'missing' | 'wrong';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

function matchesAny(presented: string, accepted: Buffer[]): boolean {
  const d = digest(presented);
  let ok = false;
  for (const a of accepted) ok = timingSafeEqual(d, a) || ok;
  return ok;
}

/** Builds the per-request check once: digests of the accepted credentials are computed at start-up. */
export function createAuthenticator(config: AuthConfig): (headers: Record<string, string | string[] | undefined>) => AuthResult {
  if (config.insecure) return () => 'ok';
  const keys = config.apiKeys.map(digest);
  const basic = config.basic === undefined ? [] : [digest(config.basic)];
  return (headers) => {
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
    return presented ? 'wrong' : 'missing';
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
    return { config: { header, apiKeys, ...(basic ? { basic } : {}), insecure: false }, source: [...where].join(' + ') };
  }
  const key = generateApiKey();
  const current = readSecrets(options.secretsFile);
  writeSecrets(options.secretsFile, { ...(current ?? {}), apiKeys: [key] });
  return { config: { header, apiKeys: [key], insecure: false }, source: options.secretsFile, generatedKey: key };
}
