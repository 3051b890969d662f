/**
 * The post → newest job lookup, which runs for every processed event, answered from the index alone. The old index
 * (post_id) found a post's jobs and then sorted them by (first_event_at, job_id) and read whole rows (outputs JSON
 * included) to pick one: ~25 µs per event, the most expensive statement of the write path. With the ordering columns
 * in the index, `ORDER BY first_event_at DESC, job_id DESC LIMIT 1` reads one index entry and sorts nothing.
 */
import type { Migration } from './index.js';

export const migration003: Migration = {
  version: 3,
  name: 'post-job-index',
  up(db) {
    db.exec(`
      DROP INDEX jobs_post;
      CREATE INDEX jobs_post ON jobs (post_id, first_event_at, job_id) WHERE post_id IS NOT NULL;
    `);
  },
};
