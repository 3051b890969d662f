/**
 * Several notifiers, and a job's terminal state made final:
 * - outbox rows get a lease (owner, until): a notifier claims a row before sending it, so two never send the same row,
 *   and a row held by a notifier that died is taken over when its lease expires; first_attempt_at starts the 24-hour
 *   retry horizon;
 * - leases: named leases held by one owner at a time (the single Slack sender, which keeps Slack's 1 message/s);
 * - jobs keep the id of the event that set their status (the last tie-break) and every terminal event seen, so a
 *   contradicting late ERROR or COMPLETE is kept and shown as an anomaly instead of flipping the job.
 */
import type { Migration } from './index.js';

export const migration004: Migration = {
  version: 4,
  name: 'leases-and-terminal-events',
  up(db) {
    db.exec(`
      ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
      ALTER TABLE outbox ADD COLUMN lease_until INTEGER;
      ALTER TABLE outbox ADD COLUMN first_attempt_at INTEGER;
      CREATE TABLE leases (
        name       TEXT PRIMARY KEY,
        owner      TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
      ALTER TABLE jobs ADD COLUMN status_event_id TEXT;
      ALTER TABLE jobs ADD COLUMN terminal_events TEXT NOT NULL DEFAULT '[]';
    `);
  },
};
