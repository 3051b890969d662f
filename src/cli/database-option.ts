/**
 * `--database URL` / `--db PATH`, shared by the verbs that open the listener's database (listen, notifications), with one
 * precedence: --database or --db › VIDPIPE_DATABASE_URL › VIDPIPE_DB › the config's listen.database, listen.db (relative
 * to the config file) › ./vidpipe.db. Resolved once, at the edge, into a typed location.
 */
import type { Command } from 'commander';
import path from 'node:path';
import type { VidpipeConfig } from '../config/config.js';
import { UsageError } from '../errors.js';
import { parseDatabaseLocation, type DatabaseLocation } from '../store/open-store.js';

export interface DatabaseFlags {
  database?: string;
  db?: string;
}

export function addDatabaseOptions(cmd: Command): Command {
  return cmd
    .option('--database <url>', 'database: postgres://user:pass@host/db, sqlite:PATH or a file path (env VIDPIPE_DATABASE_URL; default ./vidpipe.db)')
    .option('--db <path>', 'SQLite database file (env VIDPIPE_DB); same as --database PATH');
}

export function resolveDatabase(flags: DatabaseFlags, env: NodeJS.ProcessEnv, config: VidpipeConfig | undefined, configPath: string): DatabaseLocation {
  if (flags.database && flags.db) throw new UsageError('BAD_DATABASE', 'Pass --database or --db, not both.', { hint: '--db PATH is the same as --database PATH.' });
  const configured = config?.listen?.database;
  if (configured && /^postgres(ql)?:\/\/[^/@]*:[^/@]+@/i.test(configured))
    throw new UsageError('SECRET_IN_CONFIG', `listen.database in ${configPath} contains a password.`, {
      hint: 'The config is meant for version control: remove the password and give it in VIDPIPE_DATABASE_URL, PGPASSWORD or ~/.pgpass.',
    });
  const given = flags.database || flags.db || env.VIDPIPE_DATABASE_URL || env.VIDPIPE_DB;
  if (given) return parseDatabaseLocation(given);
  // A relative path in the config is relative to the config file, not to wherever the command runs.
  const fromConfig = configured ?? config?.listen?.db;
  if (fromConfig) return parseDatabaseLocation(fromConfig, { baseDir: path.dirname(configPath) });
  return parseDatabaseLocation('vidpipe.db', { isDefault: true });
}
