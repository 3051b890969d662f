/**
 * The forwarding outbox (`listen --forward-to`): one row per newly stored event, written in the event's own
 * transaction, so a restart never drops a relay to the user's app. Rows of one job are sent in order (a row waits while
 * an earlier one of its job is pending); a claim leases a row to one forwarder, as the Slack outbox does.
 */
import type { Migration } from './index.js';

export const migration005: Migration = {
  version: 5,
  name: 'forwards',
  up(db) {
    db.exec(`
      CREATE TABLE forwards (
        id               INTEGER PRIMARY KEY,
        event_id         TEXT NOT NULL UNIQUE REFERENCES inbox (event_id),
        job_id           TEXT,
        state            TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
        attempts         INTEGER NOT NULL DEFAULT 0,
        next_attempt_at  INTEGER NOT NULL,
        last_error       TEXT,
        last_status      INTEGER,
        created_at       INTEGER NOT NULL,
        first_attempt_at INTEGER,
        sent_at          INTEGER,
        lease_owner      TEXT,
        lease_until      INTEGER
      ) STRICT;
      CREATE INDEX forwards_due ON forwards (next_attempt_at, id) WHERE state = 'pending';
      CREATE INDEX forwards_job ON forwards (job_id, id) WHERE state = 'pending';
    `);
  },
};
