/**
 * PostgreSQL's schema migrations on a real server: a schema made by an earlier vidpipe is brought up to date when the
 * listener's store opens it, and what it held still reads back the same.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migratePostgres, PG_MIGRATIONS, quoteIdent } from '../../src/store/postgres/migrations.js';
import { openStore, parseDatabaseLocation } from '../../src/store/open-store.js';
import { schemaOf, testPostgres } from '../helpers/postgres.js';

const server = await testPostgres();
afterAll(async () => {
  await server?.cleanup();
});

describe.runIf(Boolean(server))('PostgreSQL migrations', () => {
  it('migration 3 drops the posts table; a post is then read from its newest job, the same as before', async () => {
    const url = server!.freshUrl('migrate');
    const schema = schemaOf(url);
    const client = new pg.Client({ connectionString: server!.url });
    await client.connect();
    try {
      expect(await migratePostgres(client, schema, 'test', PG_MIGRATIONS.slice(0, 2))).toBe(2);
      const S = quoteIdent(schema);
      const job = `INSERT INTO ${S}.jobs (job_id, status, status_at, status_event, post_id, first_event_at, last_event_at, updated_at) VALUES ($1, $2, 0, $2, 'p1', $3, $3, $4)`;
      await client.query(job, ['old', 'COMPLETE', 5, 50]);
      await client.query(job, ['new', 'PROGRESSING', 9, 90]);
      await client.query(`INSERT INTO ${S}.posts (post_id, job_id, video_status, updated_at) VALUES ('p1', 'new', 'processing', 90)`);
    } finally {
      await client.end();
    }

    const store = await openStore(parseDatabaseLocation(url), {});
    try {
      expect(await server!.query(schema, 'SELECT version FROM schema_version')).toEqual([{ version: 3 }]);
      expect(await server!.query(schema, "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'posts'", [schema])).toEqual([]);
      expect(await store.getPost('p1')).toEqual({ postId: 'p1', jobId: 'new', videoStatus: 'processing', videoUrl: null, thumbnailUrl: null, updatedAt: 90 });
      expect(await store.getPost('p2')).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
