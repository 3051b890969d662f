/**
 * Where the listener's database is, and opening the adapter for it. `--database URL` (env VIDPIPE_DATABASE_URL,
 * config listen.database): `postgres://…` or `postgresql://…` selects PostgreSQL; `sqlite:PATH` or a plain path selects
 * SQLite, the default (nothing to install). Each adapter is imported only when chosen, so the SQLite path never loads
 * the PostgreSQL driver and the reverse.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { ListenerStore } from '../listener/core/store-port.js';
import type { SqliteWriterMode } from './sqlite/sqlite-committer.js';

export type { SqliteWriterMode };

export type DatabaseLocation =
  | { engine: 'sqlite'; path: string; /** the default location: its directory may be created */ isDefault: boolean }
  | { engine: 'postgresql'; url: string; /** the URL with its password replaced by *** */ redacted: string; schema: string };

/** PostgreSQL tables live in their own schema, so they never meet an app's own `posts` table in a shared database. */
export const DEFAULT_PG_SCHEMA = 'vidpipe';

export function parseDatabaseLocation(value: string, options: { isDefault?: boolean; baseDir?: string } = {}): DatabaseLocation {
  const text = value.trim();
  if (text === '') throw new UsageError('BAD_DATABASE', 'The database location is empty.', { hint: 'Pass --database postgres://user:pass@host/db or a SQLite file path.' });
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return parsePostgresUrl(text);
  if (scheme === 'sqlite') {
    const file = text.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!file) throw new UsageError('BAD_DATABASE', '`sqlite:` needs a file path, e.g. sqlite:./vidpipe.db.');
    return { engine: 'sqlite', path: path.resolve(options.baseDir ?? '.', file), isDefault: Boolean(options.isDefault) };
  }
  // A Windows drive letter is a path, not a scheme; anything else with a scheme is not a database we know.
  if (scheme && scheme.length > 1)
    throw new UsageError('BAD_DATABASE', `Unknown database scheme "${scheme}:" in ${redactUrl(text)}.`, {
      hint: 'Use postgres://user:password@host:5432/dbname for PostgreSQL, or a file path (or sqlite:PATH) for SQLite.',
    });
  return { engine: 'sqlite', path: path.resolve(options.baseDir ?? '.', text), isDefault: Boolean(options.isDefault) };
}

function parsePostgresUrl(text: string): DatabaseLocation {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError('BAD_DATABASE', `The PostgreSQL URL ${redactUrl(text)} is not a valid URL.`, {
      hint: 'Write it as postgres://user:password@host:5432/dbname (percent-encode special characters in the password).',
    });
  }
  if (!url.hostname && !url.searchParams.get('host'))
    throw new UsageError('BAD_DATABASE', `The PostgreSQL URL ${redactUrl(text)} names no host.`, { hint: 'Write it as postgres://user:password@host:5432/dbname.' });
  if (url.pathname.replace(/^\//, '') === '')
    throw new UsageError('BAD_DATABASE', `The PostgreSQL URL ${redactUrl(text)} names no database.`, { hint: 'Add the database name: postgres://user:password@host:5432/dbname.' });
  const schema = url.searchParams.get('schema') ?? DEFAULT_PG_SCHEMA;
  if (!/^[a-z_][a-z0-9_$]{0,62}$/i.test(schema))
    throw new UsageError('BAD_DATABASE', `schema=${schema} is not a plain PostgreSQL identifier.`, { hint: 'Use letters, digits and underscores (default: vidpipe).' });
  // `schema` is ours, not libpq's: the driver must not see it.
  url.searchParams.delete('schema');
  return { engine: 'postgresql', url: url.toString(), redacted: redactUrl(url.toString()), schema };
}

/** The URL with any password replaced by ***: safe for logs, errors and --json. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = '***';
    for (const key of [...url.searchParams.keys()]) if (/pass/i.test(key)) url.searchParams.set(key, '***');
    return url.toString();
  } catch {
    // Not parseable: strip anything between "//user:" and "@" by hand.
    return text.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@').replace(/(pass[a-z]*=)[^&]*/gi, '$1***');
  }
}

export function describeLocation(location: DatabaseLocation): string {
  return location.engine === 'sqlite' ? location.path : `${location.redacted} (schema ${location.schema})`;
}

export interface OpenStoreOptions {
  /** Notifications created now are stored as skipped, with this reason (no webhook configured). */
  skipNotificationsReason?: string;
  /** Every newly stored event also gets a forwards row (`listen --forward-to`). */
  forwardEvents?: boolean;
  /** SQLite: where commits run (default 'auto': by cores, sqlite/sqlite-committer.ts). */
  writer?: SqliteWriterMode;
  clock?: () => number;
  /** An operator's verb on an existing database: a missing SQLite file is an error, not a new database. */
  mustExist?: boolean;
}

export async function openStore(location: DatabaseLocation, options: OpenStoreOptions = {}): Promise<ListenerStore> {
  const { mustExist, ...rest } = options;
  if (location.engine === 'sqlite') {
    if (mustExist && !existsSync(location.path))
      throw new UsageError('DB_NOT_FOUND', `There is no database at ${location.path}.`, {
        hint: 'Run this where `vidpipe listen` runs, or pass its database with --db PATH / --database URL (env VIDPIPE_DATABASE_URL).',
      });
    const { SqliteStore } = await import('./sqlite/sqlite-store.js');
    return SqliteStore.open({ path: location.path, createDirectory: location.isDefault && !mustExist, ...rest });
  }
  const { PostgresStore } = await import('./postgres/postgres-store.js');
  return PostgresStore.open({ url: location.url, redacted: location.redacted, schema: location.schema, ...rest });
}
