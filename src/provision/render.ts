/** Text renderings of plans, apply results and status (tables for people; --json prints the objects instead). */
import type { ChalkInstance } from 'chalk';
import { renderTable } from '../output/output.js';
import type { StepResult } from './apply.js';
import { formatValue } from './diff.js';
import { countActions, type Plan, type StepAction } from './plan.js';
import type { StatusRow } from './service.js';

const ACTION_COLOR: Record<StepAction, keyof Pick<ChalkInstance, 'green' | 'yellow' | 'red' | 'dim'>> = {
  create: 'green',
  update: 'yellow',
  delete: 'red',
  noop: 'dim',
};

/** "2 to create, 1 to update, 15 unchanged" (only the non-zero counts). */
export function planSummary(plan: Plan): string {
  const n = countActions(plan);
  const parts = [
    n.create && `${n.create} to create`,
    n.update && `${n.update} to update`,
    n.delete && `${n.delete} to delete`,
    n.noop && `${n.noop} unchanged`,
  ].filter(Boolean);
  return n.create + n.update + n.delete === 0 ? `no changes${n.noop ? ` (${n.noop} unchanged)` : ''}` : parts.join(', ');
}

/**
 * The changes as a diff table: for each resource, each field with the value AWS has and the value wanted (unchanged
 * resources are only counted: `status` lists everything).
 */
export function renderPlan(plan: Plan, c: ChalkInstance, title = 'Plan'): string {
  const rows: string[][] = [];
  for (const s of plan.steps) {
    if (s.action === 'noop') continue;
    const head = [c[ACTION_COLOR[s.action]](s.action), s.kind, s.name];
    const blank = ['', '', ''];
    if (s.action === 'create') rows.push([...head, '', c.dim('(missing)'), c.green('(new)')]);
    else if (s.action === 'delete') rows.push([...head, s.reason, c.dim('(exists)'), c.red('(deleted)')]);
    else {
      const fields = s.changes ?? [];
      // Differences with no single value (e.g. "code changed") are in the reason but not in `changes`.
      const other = s.reason.split('; ').filter((r) => !fields.some((f) => r.startsWith(`${f.field}: `)));
      const lines = [...fields.map((f) => [f.field, c.red(formatValue(f.current)), c.green(formatValue(f.wanted))]), ...other.map((r) => [r, '', ''])];
      lines.forEach((l, i) => rows.push([...(i === 0 ? head : blank), ...l]));
    }
  }
  const parts = [...(rows.length ? [renderTable(['ACTION', 'RESOURCE', 'NAME', 'FIELD', 'AWS', 'WANTED'], rows), ''] : []), `${title}: ${planSummary(plan)}.`];
  for (const note of plan.notes) parts.push(c.dim(`note: ${note}`));
  return parts.join('\n');
}

/** Where a run acts, above its plan: account, region (and why), profile, endpoint(s). */
export interface RunTarget {
  account: string;
  region: string;
  regionSource?: string;
  profile?: string;
  /** The endpoint each service is called on, when not AWS's own (an emulator). */
  endpoints: Record<string, string>;
}

export function renderTarget(t: RunTarget, c: ChalkInstance): string {
  // The endpoint most services use, then the services that differ from it (AWS's own endpoints when none is set).
  const count = new Map<string, number>();
  for (const e of Object.values(t.endpoints)) count.set(e, (count.get(e) ?? 0) + 1);
  const main = [...count.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  const others = Object.entries(t.endpoints).filter(([, e]) => e !== main);
  const endpoint = `${main ?? 'AWS'}${others.length ? ` (${others.map(([s, e]) => `${s}: ${e}`).join(', ')})` : ''}`;
  return c.dim(
    `account ${t.account} · region ${t.region}${t.regionSource ? ` (from ${t.regionSource})` : ''} · profile ${t.profile ?? 'default chain'} · endpoint ${endpoint}`,
  );
}

export function renderResults(results: StepResult[], c: ChalkInstance): string {
  const colour = { done: c.green, unchanged: c.dim, failed: c.red, skipped: c.yellow };
  const rows = results.map((r) => [
    colour[r.outcome](r.outcome === 'done' ? r.action : r.outcome),
    r.kind,
    r.name,
    r.error ?? (r.outcome === 'done' ? `${r.ms} ms` : ''),
  ]);
  return renderTable(['RESULT', 'RESOURCE', 'NAME', 'DETAIL'], rows);
}

export function renderStatus(rows: StatusRow[], notes: string[], c: ChalkInstance): string {
  const colour = { ok: c.green, missing: c.red, drifted: c.yellow };
  const table = renderTable(
    ['STATUS', 'RESOURCE', 'NAME', 'DETAILS'],
    rows.map((r) => [
      colour[r.status](r.status),
      r.kind,
      r.name,
      [r.status === 'ok' ? '' : r.reason, ...Object.entries(r.details).map(([k, v]) => `${k}: ${v}`)].filter(Boolean).join('; '),
    ]),
  );
  return [table, ...notes.map((n) => c.dim(`note: ${n}`))].join('\n');
}
