/**
 * What a plan shows for an update: each difference as a field, the value AWS has, and the value vidpipe wants
 * (issue 12, item 7), like `cdk diff` or `terraform plan`. Values stay JSON values (never JSON re-encoded as a
 * string), so `--json` consumers read them as they are.
 */
import { canonicalJson } from '../util/canonical-json.js';

export interface FieldChange {
  field: string;
  /** What AWS has (undefined: absent). */
  current: unknown;
  /** What vidpipe wants (undefined: absent). */
  wanted: unknown;
}

/** A module's diff() entry: a field change, or (for what has no single value, e.g. "code changed") a sentence. */
export type Difference = string | FieldChange;

export const change = (field: string, current: unknown, wanted: unknown): FieldChange => ({ field, current, wanted });

export function isFieldChange(d: Difference): d is FieldChange {
  return typeof d === 'object' && d !== null && 'field' in d;
}

/** A value for one table cell: short, one line. */
export function formatValue(v: unknown, max = 60): string {
  if (v === undefined) return '(none)';
  const text = typeof v === 'string' ? v : canonicalJson(v);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function describeDifference(d: Difference): string {
  return isFieldChange(d) ? `${d.field}: ${formatValue(d.current)} → ${formatValue(d.wanted)}` : d;
}

/**
 * The leaves where two JSON documents differ, as field changes named `<field>.<path>` (at most `limit`; arrays of
 * different lengths are compared as a whole): a policy's one changed Action reads as that, not as "policy differs".
 */
export function jsonChanges(field: string, current: unknown, wanted: unknown, limit = 5): FieldChange[] {
  const out: FieldChange[] = [];
  const walk = (path: string, a: unknown, b: unknown) => {
    if (out.length >= limit || canonicalJson(a) === canonicalJson(b)) return;
    const bothObjects = a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b);
    if (bothObjects && (!Array.isArray(a) || (a as unknown[]).length === (b as unknown[]).length)) {
      const keys = Array.isArray(a) ? a.map((_, i) => i) : [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
      for (const k of keys)
        walk(Array.isArray(a) ? `${path}[${k}]` : `${path}.${String(k)}`, (a as Record<string, unknown>)[k as never], (b as Record<string, unknown>)[k as never]);
      return;
    }
    out.push(change(path, a, b));
  };
  walk(field, current, wanted);
  return out;
}
