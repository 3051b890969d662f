/**
 * Does an EventBridge event pattern match an event? Used by `doctor` when the endpoint does not answer
 * TestEventPattern (moto 5.2 answers it with a 500 NotImplementedError). It implements the pattern syntax vidpipe's
 * rule uses and the common content filters from the user guide (eb-event-patterns.html, eb-create-pattern-operators.html):
 * exact values (a field matches when its value, or any element of an array value, equals one listed), nested
 * objects, `prefix`, `suffix`, `anything-but`, `exists`, `equals-ignore-case` and `numeric`. Anything else is
 * reported as unsupported rather than guessed.
 */
export class UnsupportedPatternError extends Error {}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function matchesPattern(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, rule]) => matchField(rule, event[key], key in event));
}

function matchField(rule: unknown, value: unknown, present: boolean): boolean {
  if (Array.isArray(rule)) {
    // A field matches if any of the listed values (or operators) matches it.
    const values = Array.isArray(value) ? value : [value];
    return rule.some((r) => (r !== null && typeof r === 'object' ? matchOperator(r as Record<string, Json>, value, present) : present && values.some((v) => v === r)));
  }
  if (rule !== null && typeof rule === 'object') {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
    return matchesPattern(rule as Record<string, unknown>, value as Record<string, unknown>);
  }
  throw new UnsupportedPatternError(`a pattern leaf must be an array or an object, got ${JSON.stringify(rule)}`);
}

function matchOperator(op: Record<string, Json>, value: unknown, present: boolean): boolean {
  const [name, arg] = Object.entries(op)[0] ?? [];
  const values = Array.isArray(value) ? value : [value];
  const strings = values.filter((v): v is string => typeof v === 'string');
  switch (name) {
    case 'exists':
      return arg === true ? present : !present;
    case 'prefix':
      return typeof arg === 'string' && strings.some((v) => v.startsWith(arg));
    case 'suffix':
      return typeof arg === 'string' && strings.some((v) => v.endsWith(arg));
    case 'equals-ignore-case':
      return typeof arg === 'string' && strings.some((v) => v.toLowerCase() === arg.toLowerCase());
    case 'anything-but': {
      if (!present) return false;
      if (arg !== null && typeof arg === 'object' && !Array.isArray(arg)) return !matchOperator(arg, value, present);
      const excluded: unknown[] = Array.isArray(arg) ? arg : [arg];
      return values.every((v) => !excluded.includes(v));
    }
    case 'numeric': {
      if (!Array.isArray(arg)) throw new UnsupportedPatternError('numeric needs a list of comparisons');
      return values.some((v) => typeof v === 'number' && numericMatch(arg, v));
    }
    default:
      throw new UnsupportedPatternError(`the content filter ${JSON.stringify(op)} is not supported by vidpipe's matcher`);
  }
}

function numericMatch(ops: Json[], v: number): boolean {
  for (let i = 0; i + 1 < ops.length; i += 2) {
    const op = ops[i];
    const n = ops[i + 1] as number;
    const ok = op === '=' ? v === n : op === '<' ? v < n : op === '<=' ? v <= n : op === '>' ? v > n : op === '>=' ? v >= n : undefined;
    if (ok === undefined) throw new UnsupportedPatternError(`numeric operator ${String(op)} is not supported`);
    if (!ok) return false;
  }
  return true;
}
