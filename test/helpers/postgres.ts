/**
 * A real PostgreSQL server for the store tests: the URL in VIDPIPE_TEST_DATABASE_URL, or the role and database that
 * .ci/run creates (vidpipe_test on 127.0.0.1:5432). Each test gets a schema of its own (`?schema=`), dropped after.
 * Without a reachable server the PostgreSQL suites skip with a notice saying how to start one; under CI=true
 * (.ci/run) a missing server fails the run instead.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const DEFAULT_TEST_DATABASE_URL = 'postgres://vidpipe_test:vidpipe-test-pw@127.0.0.1:5432/vidpipe_test';
const HOW = 'start PostgreSQL (pg_ctlcluster 15 main start; apt-get install -y postgresql where missing) and create the test role and database as .ci/run does, or set VIDPIPE_TEST_DATABASE_URL';

export interface TestPostgres {
  /** The server's URL (no schema). */
  url: string;
  /** A URL for a new, empty schema; dropped by cleanup(). */
  freshUrl(prefix?: string): string;
  /** Runs SQL in a schema (for assertions). */
  query<R extends object = Record<string, unknown>>(schema: string, sql: string, params?: unknown[]): Promise<R[]>;
  cleanup(): Promise<void>;
}

let probed: Promise<boolean> | undefined;

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The server, or undefined (with a notice) when the suite must skip. Throws under CI. */
export async function testPostgres(): Promise<TestPostgres | undefined> {
  const url = process.env.VIDPIPE_TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL;
  probed ??= reachable(url);
  if (!(await probed)) {
    const notice = `PostgreSQL not reachable at ${url.replace(/:[^:@/]*@/, ':***@')}: ${HOW}`;
    if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI: ${notice}`);
    console.warn(`[skip] ${notice}`);
    return undefined;
  }
  const schemas: string[] = [];
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  return {
    url,
    freshUrl(prefix = 't') {
      const schema = `${prefix}_${randomBytes(5).toString('hex')}`;
      schemas.push(schema);
      const u = new URL(url);
      u.searchParams.set('schema', schema);
      return u.toString();
    },
    async query(schema, sql, params = []) {
      const c = await pool.connect();
      try {
        await c.query(`SET search_path TO "${schema}"`);
        return (await c.query(sql, params)).rows;
      } finally {
        c.release();
      }
    },
    async cleanup() {
      for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`).catch(() => undefined);
      await pool.end();
    },
  };
}

export function schemaOf(url: string): string {
  return new URL(url).searchParams.get('schema') as string;
}
