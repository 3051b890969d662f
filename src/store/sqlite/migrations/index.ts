/** Every migration, in order. Append only: a released migration never changes. */
import type Database from 'better-sqlite3';
import { migration001 } from './001-initial.js';
import { migration002 } from './002-ascending-job-indexes.js';
import { migration003 } from './003-post-job-index.js';
import { migration004 } from './004-leases-and-terminal-events.js';
import { migration005 } from './005-forwards.js';
import { migration006 } from './006-posts-from-jobs.js';

export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [migration001, migration002, migration003, migration004, migration005, migration006];
