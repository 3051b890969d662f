/**
 * PostgreSQL's schema, as numbered migrations (append only: a released one never changes). The layout is SQLite's
 * (src/store/sqlite/migrations, up to 004) in one step, in PostgreSQL's types: epoch milliseconds as bigint, JSON as
 * text (stored and returned exactly as written), progress as double precision. Ids compare byte-wise (COLLATE "C"), as
 * SQLite's do, so both engines list and page jobs in one order.
 *
 * All tables live in one schema (default `vidpipe`, `?schema=` in the URL), so they never meet an app's own tables.
 * migrate() runs every pending migration in ONE transaction holding an advisory lock, and reads the version inside it:
 * two instances started at once never both migrate, and a failure leaves nothing half-created (PostgreSQL's DDL is
 * transactional).
 */
import type { ClientBase } from 'pg';
import { VidpipeError } from '../../errors.js';

export interface PgMigration {
  version: number;
  name: string;
  /** SQL with `S.` standing for the quoted schema name. */
  sql: string;
}

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
      CREATE TABLE S.inbox (
        event_id         text COLLATE "C" PRIMARY KEY,
        source           text NOT NULL,
        detail_type      text NOT NULL,
        outcome          text NOT NULL CHECK (outcome IN ('processed', 'ignored')),
        job_id           text COLLATE "C",
        status           text,
        event_time       text,
        detail_timestamp bigint,
        received_at      bigint NOT NULL,
        body             text NOT NULL
      );
      CREATE INDEX inbox_job ON S.inbox (job_id, detail_timestamp) WHERE job_id IS NOT NULL;

      CREATE TABLE S.jobs (
        job_id          text COLLATE "C" PRIMARY KEY,
        status          text NOT NULL,
        status_at       bigint NOT NULL,
        status_event    text NOT NULL,
        status_event_id text,
        terminal_events text NOT NULL DEFAULT '[]',
        progress        double precision,
        current_phase   text,
        phase_at        bigint,
        input_uri       text,
        input_details   text,
        input_at        bigint,
        outputs         text,
        duration_ms     bigint,
        width           bigint,
        height          bigint,
        error_code      text,
        error_message   text,
        warnings        text NOT NULL DEFAULT '[]',
        queue           text,
        queue_at        bigint,
        post_id         text COLLATE "C",
        user_metadata   text NOT NULL DEFAULT '{}',
        first_event_at  bigint NOT NULL,
        last_event_at   bigint NOT NULL,
        event_count     integer NOT NULL DEFAULT 0,
        updated_at      bigint NOT NULL
      );
      CREATE INDEX jobs_status ON S.jobs (status, first_event_at, job_id);
      CREATE INDEX jobs_recent ON S.jobs (first_event_at, job_id);
      CREATE INDEX jobs_post ON S.jobs (post_id, first_event_at, job_id) WHERE post_id IS NOT NULL;

      CREATE TABLE S.posts (
        post_id       text COLLATE "C" PRIMARY KEY,
        job_id        text NOT NULL REFERENCES S.jobs (job_id),
        video_status  text NOT NULL CHECK (video_status IN ('processing', 'ready', 'failed')),
        video_url     text,
        thumbnail_url text,
        updated_at    bigint NOT NULL
      );

      CREATE TABLE S.outbox (
        id               bigserial PRIMARY KEY,
        job_id           text NOT NULL REFERENCES S.jobs (job_id),
        kind             text NOT NULL CHECK (kind IN ('COMPLETE', 'ERROR')),
        event_id         text NOT NULL,
        state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed', 'skipped')),
        attempts         integer NOT NULL DEFAULT 0,
        next_attempt_at  bigint NOT NULL,
        last_error       text,
        created_at       bigint NOT NULL,
        sent_at          bigint,
        lease_owner      text,
        lease_until      bigint,
        first_attempt_at bigint,
        UNIQUE (job_id, kind)
      );
      CREATE INDEX outbox_due ON S.outbox (next_attempt_at, id) WHERE state = 'pending';

      CREATE TABLE S.leases (
        name       text PRIMARY KEY,
        owner      text NOT NULL,
        expires_at bigint NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'forwards',
    // SQLite's migration 005: the forwarding outbox (`listen --forward-to`), in order per job, leased to one forwarder.
    sql: `
      CREATE TABLE S.forwards (
        id               bigserial PRIMARY KEY,
        event_id         text COLLATE "C" NOT NULL UNIQUE REFERENCES S.inbox (event_id),
        job_id           text COLLATE "C",
        state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
        attempts         integer NOT NULL DEFAULT 0,
        next_attempt_at  bigint NOT NULL,
        last_error       text,
        last_status      integer,
        created_at       bigint NOT NULL,
        first_attempt_at bigint,
        sent_at          bigint,
        lease_owner      text,
        lease_until      bigint
      );
      CREATE INDEX forwards_due ON S.forwards (next_attempt_at, id) WHERE state = 'pending';
      CREATE INDEX forwards_job ON S.forwards (job_id, id) WHERE state = 'pending';
    `,
  },
  {
    version: 3,
    name: 'posts-from-jobs',
    // SQLite's migration 006: a post is read from its newest job, so the table that mirrored it goes (nothing is lost;
    // keeping it in step cost a lock, a read and an upsert per batch: +20 % events/s without them, issue 17).
    sql: `DROP TABLE S.posts;`,
  },
];

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Runs what is pending; returns the version the schema is at. Throws DB_TOO_NEW for a schema from a newer vidpipe. */
export async function migratePostgres(client: ClientBase, schema: string, where: string, migrations: readonly PgMigration[] = PG_MIGRATIONS): Promise<number> {
  const S = quoteIdent(schema);
  const latest = migrations.at(-1)?.version ?? 0;
  await client.query('BEGIN');
  try {
    // One lock per schema name, held to COMMIT: the second instance waits here, then sees the version the first wrote.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`vidpipe:migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${S}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${S}.schema_version (version integer NOT NULL)`);
    const row = (await client.query<{ version: number }>(`SELECT version FROM ${S}.schema_version`)).rows[0];
    const current = row?.version ?? 0;
    if (current > latest)
      throw new VidpipeError('DB_TOO_NEW', `${where} has schema version ${current}, newer than this vidpipe understands (${latest}).`, {
        hint: 'Upgrade vidpipe (every instance on one database must run the same or a newer version). The database was not changed.',
        exitCode: 2,
        details: { schemaVersion: current, supported: latest },
      });
    for (const m of migrations.filter((x) => x.version > current)) await client.query(m.sql.replace(/\bS\./g, `${S}.`));
    if (current < latest) {
      if (row) await client.query(`UPDATE ${S}.schema_version SET version = $1`, [latest]);
      else await client.query(`INSERT INTO ${S}.schema_version (version) VALUES ($1)`, [latest]);
    }
    await client.query('COMMIT');
    return Math.max(current, latest);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
