/**
 * `vidpipe notifications [--status …]` lists the listener's outbox (what was sent, what waits, what failed and why);
 * `vidpipe notifications retry [ID…] [--failed] [--skipped]` puts failed or skipped rows back to pending, due now,
 * with a fresh 24-hour retry horizon. Both work on the database of a running listener (SQLite file or PostgreSQL):
 * its notifier picks requeued rows up within its poll interval (5 s).
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { UsageError } from '../../errors.js';
import type { ListenerStore, NotificationListItem, NotificationState } from '../../listener/core/store-port.js';
import { renderTable } from '../../output/output.js';
import { commandContext, parseInteger } from '../context.js';
import { addDatabaseOptions, resolveDatabase, type DatabaseFlags } from '../database-option.js';
import { summaryOf } from './index.js';

const STATES: readonly NotificationState[] = ['pending', 'sent', 'failed', 'skipped'];

interface ListFlags extends DatabaseFlags {
  status?: string;
  job?: string;
  limit?: string;
}

interface RetryFlags extends DatabaseFlags {
  failed?: boolean;
  skipped?: boolean;
}

async function withStore<T>(cmd: Command, flags: DatabaseFlags, fn: (store: ListenerStore) => Promise<T>): Promise<T> {
  const { globals } = commandContext(cmd);
  const config = await loadConfig(globals.configPath);
  const location = resolveDatabase(flags, process.env, config, globals.configPath);
  const { openStore } = await import('../../store/open-store.js');
  // Inline: no writer thread for a one-off command; the running listener keeps its own.
  const store = await openStore(location, { writer: 'inline', mustExist: true });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function parseStates(text: string | undefined): NotificationState[] | undefined {
  if (!text) return undefined;
  const states = text.split(',').map((s) => s.trim().toLowerCase());
  for (const s of states)
    if (!STATES.includes(s as NotificationState)) throw new UsageError('BAD_STATUS', `--status "${s}" is not one of ${STATES.join(', ')}.`, { hint: 'For example --status failed,pending.' });
  return states as NotificationState[];
}

function when(ms: number | null): string {
  return ms === null ? '' : new Date(ms).toISOString().replace('.000Z', 'Z');
}

function renderRows(rows: NotificationListItem[]): string[][] {
  return rows.map((n) => [
    String(n.id),
    n.postId ?? '',
    n.jobId,
    `${n.kind} ${n.state}`,
    String(n.attempts),
    n.state === 'pending' ? when(n.nextAttemptAt) : n.state === 'sent' ? `sent ${when(n.sentAt)}` : '',
    (n.lastError ?? '').slice(0, 80),
  ]);
}

export function registerNotifications(program: Command): void {
  const cmd = program
    .command('notifications')
    .description(summaryOf('notifications'))
    .option('--status <states>', `only these states, comma-separated (${STATES.join(', ')})`)
    .option('--job <jobId>', 'only this job')
    .option('--limit <n>', 'at most this many, newest first (default 50)');
  addDatabaseOptions(cmd).action(async (flags: ListFlags, c: Command) => {
    const { out } = commandContext(c);
    const states = parseStates(flags.status);
    const limit = flags.limit === undefined ? 50 : parseInteger(flags.limit, '--limit', 1, 10_000);
    const rows = await withStore(c, flags, (store) => store.listNotifications({ limit, ...(states ? { states } : {}), ...(flags.job ? { jobId: flags.job } : {}) }));
    out.result({ notifications: rows }, () => {
      if (rows.length === 0) return `no notifications${states ? ` in state ${states.join(' or ')}` : ''}`;
      return renderTable(['id', 'post', 'job', 'status', 'attempts', 'next / sent', 'last error'], renderRows(rows));
    });
  });

  const retry = cmd
    .command('retry [ids...]')
    .description('put failed or skipped notifications back to pending, to be sent now (by the running listener)')
    .option('--failed', 'every failed notification')
    .option('--skipped', 'every skipped notification');
  addDatabaseOptions(retry).action(async (idTexts: string[], flags: RetryFlags, c: Command) => {
    const { out } = commandContext(c);
    const ids = idTexts.map((t) => parseInteger(t, 'notification id', 1));
    const states = [...(flags.failed ? (['failed'] as const) : []), ...(flags.skipped ? (['skipped'] as const) : [])];
    if (!ids.length && !states.length)
      throw new UsageError('NOTHING_TO_RETRY', 'Say which notifications to send again.', { hint: 'Give their ids (vidpipe notifications --status failed), or --failed / --skipped.' });
    const requeued = await withStore(c, flags, async (store) => {
      if (ids.length) {
        // Check every id first: a wrong one changes nothing.
        const found = new Map((await store.listNotifications({ ids, limit: ids.length })).map((n) => [n.id, n]));
        const problems = ids.flatMap((id) => {
          const n = found.get(id);
          if (!n) return [`${id} does not exist`];
          return n.state === 'failed' || n.state === 'skipped' ? [] : [`${id} is ${n.state}`];
        });
        if (problems.length)
          throw new UsageError('CANNOT_RETRY', `Cannot send again: ${problems.join(', ')}. Nothing was changed.`, {
            hint: 'Only failed or skipped notifications are sent again (a pending one is already queued; a sent one is never re-sent).',
          });
      }
      return store.requeueNotifications({ ids, states }, Date.now());
    });
    out.result({ requeued, count: requeued.length }, () =>
      requeued.length ? `requeued ${requeued.length}: ${requeued.join(', ')} — a running listener sends them within a few seconds` : 'nothing to requeue',
    );
  });
}
