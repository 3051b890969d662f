/** Every migration, in order. Append only: a released migration never changes. */
import type Database from 'better-sqlite3';
import { migration001 } from './001-initial.js';

export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [migration001];
