/**
 * Dashboard sessions: a browser signs in once with the listener's credentials and gets a cookie
 * `vidpipe_session=v1.<expiresAt>.<nonce>.<mac>`. The MAC is HMAC-SHA256 under a key derived from the credentials
 * accepted NOW (Authenticator.credentialsFingerprint), so there is no session table: rotating or removing a key
 * (`vidpipe setup --rotate-key`, picked up from the secrets file without a restart) changes the key and every older
 * cookie stops verifying. The cookie is HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it)
 * and Secure when the request came over HTTPS (directly, or through a proxy saying x-forwarded-proto: https).
 *
 * What a cookie may authorize is decided by the auth hook (app.ts): GET/HEAD read routes, and the routes marked
 * `session: 'write'` (the dashboard's retry) when the request also carries the dashboard's own header, which a form or
 * a cross-site page cannot add. Never the EventBridge route: it keeps header auth only.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'vidpipe_session';
/** A working day: long enough not to sign in twice a day, short enough that a forgotten browser does not stay in. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** The header the dashboard's own fetch() calls carry: cross-site forms cannot set it (CSRF guard for writes). */
export const DASHBOARD_CLIENT_HEADER = 'x-vidpipe-client';

export interface Sessions {
  /** A new signed session value, valid until `expiresAt`. */
  issue(): { value: string; expiresAt: number };
  /** The session in the request's cookie, when it verifies under the current credentials and has not expired. */
  verify(req: Pick<FastifyRequest, 'headers'>): { expiresAt: number } | undefined;
  /** Set-Cookie for a value (Secure when `secure`). */
  cookie(value: string, expiresAt: number, secure: boolean): string;
  /** Set-Cookie that removes it. */
  clear(secure: boolean): string;
}

export interface SessionOptions {
  /** Changes when the accepted credentials change: the signing key is derived from it. */
  fingerprint(): string;
  ttlMs?: number;
  now?(): number;
}

const b64url = (b: Buffer) => b.toString('base64url');

export function createSessions(options: SessionOptions): Sessions {
  const ttl = options.ttlMs ?? SESSION_TTL_MS;
  const now = options.now ?? Date.now;
  // The key is recomputed only when the fingerprint changes (one hash per rotation, not per request).
  let keyFor: { fp: string; key: Buffer } | undefined;
  const key = () => {
    const fp = options.fingerprint();
    if (keyFor?.fp !== fp) keyFor = { fp, key: createHash('sha256').update('vidpipe-dashboard-session-v1\0').update(fp).digest() };
    return keyFor.key;
  };
  const mac = (payload: string) => createHmac('sha256', key()).update(payload).digest();

  return {
    issue() {
      const expiresAt = now() + ttl;
      const payload = `v1.${expiresAt}.${b64url(randomBytes(16))}`;
      return { value: `${payload}.${b64url(mac(payload))}`, expiresAt };
    },
    verify(req) {
      const value = readCookie(req.headers.cookie, SESSION_COOKIE);
      if (!value) return undefined;
      const m = /^(v1\.(\d{1,16})\.[A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(value);
      if (!m) return undefined;
      const expected = mac(m[1] as string);
      const given = Buffer.from(m[3] as string, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      const expiresAt = Number(m[2]);
      return expiresAt > now() ? { expiresAt } : undefined;
    },
    cookie(value, expiresAt, secure) {
      const maxAge = Math.max(0, Math.floor((expiresAt - now()) / 1000));
      return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
    },
    clear(secure) {
      return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
    },
  };
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** HTTPS directly, or a proxy in front saying so (the first hop of x-forwarded-proto). */
export function cameOverHttps(req: Pick<FastifyRequest, 'headers' | 'protocol'>): boolean {
  if (req.protocol === 'https') return true;
  const xfp = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(xfp) ? xfp[0] : xfp)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https';
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** No credentials needed (health checks, the dashboard's shell and assets, sign-in, the docs). */
    public?: boolean;
    /** A write the dashboard's session cookie may authorize (with its client header); reads need no mark. */
    session?: 'write';
  }
}
