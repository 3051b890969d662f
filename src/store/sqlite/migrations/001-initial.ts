/**
 * The first schema: the inbox (every accepted event, raw, keyed by its EventBridge id), the jobs it builds, the posts
 * they update and the outbox of Slack notifications. Times are epoch milliseconds.
 */
import type { Migration } from './index.js';

export const migration001: Migration = {
  version: 1,
  name: 'initial',
  up(db) {
    db.exec(`
      CREATE TABLE inbox (
        event_id         TEXT PRIMARY KEY,
        source           TEXT NOT NULL,
        detail_type      TEXT NOT NULL,
        outcome          TEXT NOT NULL CHECK (outcome IN ('processed', 'ignored')),
        job_id           TEXT,
        status           TEXT,
        event_time       TEXT,
        detail_timestamp INTEGER,
        received_at      INTEGER NOT NULL,
        body             TEXT NOT NULL
      ) STRICT;
      -- The job's events, in the order MediaConvert emitted them.
      CREATE INDEX inbox_job ON inbox (job_id, detail_timestamp) WHERE job_id IS NOT NULL;

      CREATE TABLE jobs (
        job_id          TEXT PRIMARY KEY,
        status          TEXT NOT NULL,
        status_at       INTEGER NOT NULL,
        status_event    TEXT NOT NULL,
        progress        REAL,
        current_phase   TEXT,
        phase_at        INTEGER,
        input_uri       TEXT,
        input_details   TEXT,
        input_at        INTEGER,
        outputs         TEXT,
        duration_ms     INTEGER,
        width           INTEGER,
        height          INTEGER,
        error_code      TEXT,
        error_message   TEXT,
        warnings        TEXT NOT NULL DEFAULT '[]',
        queue           TEXT,
        queue_at        INTEGER,
        post_id         TEXT,
        user_metadata   TEXT NOT NULL DEFAULT '{}',
        first_event_at  INTEGER NOT NULL,
        last_event_at   INTEGER NOT NULL,
        event_count     INTEGER NOT NULL DEFAULT 0,
        updated_at      INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX jobs_status ON jobs (status, first_event_at DESC, job_id DESC);
      CREATE INDEX jobs_recent ON jobs (first_event_at DESC, job_id DESC);
      CREATE INDEX jobs_post ON jobs (post_id) WHERE post_id IS NOT NULL;

      CREATE TABLE posts (
        post_id       TEXT PRIMARY KEY,
        job_id        TEXT NOT NULL REFERENCES jobs (job_id),
        video_status  TEXT NOT NULL CHECK (video_status IN ('processing', 'ready', 'failed')),
        video_url     TEXT,
        thumbnail_url TEXT,
        updated_at    INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY,
        job_id          TEXT NOT NULL REFERENCES jobs (job_id),
        kind            TEXT NOT NULL CHECK (kind IN ('COMPLETE', 'ERROR')),
        event_id        TEXT NOT NULL,
        state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed', 'skipped')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error      TEXT,
        created_at      INTEGER NOT NULL,
        sent_at         INTEGER,
        UNIQUE (job_id, kind)
      ) STRICT;
      CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE state = 'pending';
    `);
  },
};
