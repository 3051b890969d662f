/** Text renderings of plans, apply results and status (tables for people; --json prints the objects instead). */
import type { ChalkInstance } from 'chalk';
import { renderTable } from '../output/output.js';
import type { StepResult } from './apply.js';
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

/** The changes as a table (unchanged resources are only counted: `status` lists everything). */
export function renderPlan(plan: Plan, c: ChalkInstance, title = 'Plan'): string {
  const rows = plan.steps.filter((s) => s.action !== 'noop').map((s) => [c[ACTION_COLOR[s.action]](s.action), s.kind, s.name, s.reason]);
  const parts = [...(rows.length ? [renderTable(['ACTION', 'RESOURCE', 'NAME', 'WHY'], rows), ''] : []), `${title}: ${planSummary(plan)}.`];
  for (const note of plan.notes) parts.push(c.dim(`note: ${note}`));
  return parts.join('\n');
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
