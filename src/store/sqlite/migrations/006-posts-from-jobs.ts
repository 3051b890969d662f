/**
 * A post is read from its newest job (rows.ts, postFromJobRow), so the posts table goes. It only ever held what its
 * newest job already says, and keeping it in step cost every processed event a read and an upsert on a b-tree keyed by
 * post id: without them the listener commits ~7 % more events per second (4 alternating pairs; issue 17,
 * bench/README.md). Nothing is lost: every post is still answered, from the jobs table and its (post_id,
 * first_event_at, job_id) index.
 */
import type { Migration } from './index.js';

export const migration006: Migration = {
  version: 6,
  name: 'posts-from-jobs',
  up(db) {
    db.exec('DROP TABLE posts');
  },
};
