/**
 * Limits a request body must keep before it is parsed: checked on the raw text, in one iterative pass (no recursion,
 * so a hostile body cannot overflow the stack here either). Each limit exists because something downstream cannot
 * honour the body otherwise, and a body that breaks one gets a 400 naming where:
 *
 * - depth ≤ MAX_JSON_DEPTH: JSON.stringify, structured clone and the job fold's canonical JSON recurse once per level;
 *   a body nested 10,000 deep overflowed the stack (a 500), and a deeply nested inputDetails was stored and then
 *   could not be read back. Real MediaConvert events nest about 8 levels.
 * - every number's magnitude ≤ Number.MAX_SAFE_INTEGER (2^53 − 1): JSON.parse rounds larger integers silently
 *   (2^53 + 1 becomes 2^53), turns 1e400 into Infinity (stored as null), and SQLite INTEGER columns cannot take
 *   such values. No MediaConvert field comes near it (epoch milliseconds are about 1.7e12).
 * - no unpaired UTF-16 surrogate escape (`"\ud800"`): it is not Unicode text; stored as UTF-8 it would silently become
 *   U+FFFD.
 * - no NUL character (`"\u0000"`): PostgreSQL's text and jsonb cannot hold it, so one store would refuse what the
 *   other keeps; no MediaConvert field carries one.
 *
 * The body's size is limited before this (BODY_LIMIT_BYTES, 256 KiB: EventBridge's event size limit).
 */

/** Deepest nesting of objects and arrays accepted (the top-level object is level 1). */
export const MAX_JSON_DEPTH = 64;

export class JsonLimitError extends Error {
  /** fastify answers an error with a 4xx statusCode as that status (app.ts's error handler: 400 bad_request). */
  readonly statusCode = 400;
  constructor(message: string) {
    super(message);
    this.name = 'JsonLimitError';
  }
}

type Problem = { kind: 'depth' } | { kind: 'number'; literal: string } | { kind: 'surrogate'; escape: string } | { kind: 'nul' };

interface ScanResult {
  problem: Problem;
  /** Where, as body.a.0.b (only when asked for: it costs a slice per key). */
  path?: string;
}

/**
 * undefined when the text keeps every limit (or is not JSON: JSON.parse then says what is wrong); otherwise the 400 to
 * answer, naming the field.
 */
export function checkJsonLimits(text: string): JsonLimitError | undefined {
  const found = scan(text, false);
  if (!found) return undefined;
  // Rare: scan again, this time keeping the path, to name the field.
  const where = scan(text, true)?.path ?? 'body';
  const p = found.problem;
  if (p.kind === 'depth') {
    const segments = where.split('.');
    const at = segments.length > 8 ? `${segments.slice(0, 8).join('.')}…` : where;
    return new JsonLimitError(`body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels (at ${at}); ${MAX_JSON_DEPTH} is the listener's limit`);
  }
  if (p.kind === 'number')
    return new JsonLimitError(
      `${where} is ${p.literal.length > 40 ? `${p.literal.slice(0, 40)}…` : p.literal}: numbers must be between -${Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER} (beyond, they cannot be kept exactly)`,
    );
  if (p.kind === 'nul') return new JsonLimitError(`${where} contains \\u0000 (NUL): strings must not contain it`);
  return new JsonLimitError(`${where} contains ${p.escape}, an unpaired UTF-16 surrogate: strings must be valid Unicode`);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isNumberStart(c: number): boolean {
  return c === 0x2d || (c >= 0x30 && c <= 0x39);
}

function isNumberChar(c: number): boolean {
  // digits . + - e E
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2b || c === 0x2d || c === 0x65 || c === 0x45;
}

/** The first problem in `text`, with its path when `withPath`. */
function scan(text: string, withPath: boolean): ScanResult | undefined {
  let depth = 0;
  // With a path: one entry per open container: the key (object) or index (array) being read.
  const keys: Array<string | number> = [];
  const isArray: boolean[] = [];
  const path = () => ['body', ...keys].join('.');
  const n = text.length;
  let i = 0;
  let nextBackslash = -1;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // A string: find its closing quote, stepping over escapes (each character is looked at a bounded number of
      // times: the next quote and the next backslash are remembered, not searched for again).
      const start = i + 1;
      let k = start;
      let quote = text.indexOf('"', k);
      for (;;) {
        if (quote === -1) return undefined; // Unterminated: not JSON, JSON.parse will say so.
        if (nextBackslash < k) nextBackslash = indexOrEnd(text, '\\', k);
        if (nextBackslash > quote) break;
        const b = nextBackslash;
        if (text.charCodeAt(b + 1) === 0x75 /* u */) {
          const unit = parseInt(text.slice(b + 2, b + 6), 16);
          if (unit >= 0xd800 && unit <= 0xdbff) {
            // A high surrogate must be followed at once by a low one.
            const low = text.charCodeAt(b + 6) === BACKSLASH && text.charCodeAt(b + 7) === 0x75 ? parseInt(text.slice(b + 8, b + 12), 16) : NaN;
            if (!(low >= 0xdc00 && low <= 0xdfff)) return { problem: { kind: 'surrogate', escape: text.slice(b, b + 6) }, ...(withPath ? { path: path() } : {}) };
            k = b + 12;
          } else if (unit >= 0xdc00 && unit <= 0xdfff) {
            return { problem: { kind: 'surrogate', escape: text.slice(b, b + 6) }, ...(withPath ? { path: path() } : {}) };
          } else if (unit === 0) {
            return { problem: { kind: 'nul' }, ...(withPath ? { path: path() } : {}) };
          } else k = b + 6;
        } else k = b + 2; // \" \\ \n …: two characters
        if (quote < k) quote = text.indexOf('"', k);
      }
      const end = quote;
      if (withPath && depth > 0 && !isArray[depth - 1]) {
        // A key if a colon follows (after optional whitespace).
        let k = end + 1;
        while (k < n && (text.charCodeAt(k) === 0x20 || text.charCodeAt(k) === 0x0a || text.charCodeAt(k) === 0x0d || text.charCodeAt(k) === 0x09)) k++;
        if (text.charCodeAt(k) === 0x3a) keys[depth - 1] = safeKey(text.slice(start, end));
      }
      i = end + 1;
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      // { or [
      depth++;
      if (withPath) {
        keys.push(c === 0x5b ? 0 : '');
        isArray.push(c === 0x5b);
      }
      if (depth > MAX_JSON_DEPTH) return { problem: { kind: 'depth' }, ...(withPath ? { path: path() } : {}) };
      i++;
      continue;
    }
    if (c === 0x7d || c === 0x5d) {
      depth--;
      if (withPath) {
        keys.pop();
        isArray.pop();
      }
      i++;
      continue;
    }
    if (c === 0x2c && withPath && depth > 0 && isArray[depth - 1]) {
      // , in an array: the next element.
      keys[depth - 1] = (keys[depth - 1] as number) + 1;
      i++;
      continue;
    }
    if (isNumberStart(c)) {
      let end = i + 1;
      while (end < n && isNumberChar(text.charCodeAt(end))) end++;
      // Short literals cannot be out of range: 15 digits without an exponent is below 2^53 − 1 (16 digits).
      if (end - i > 15) {
        const literal = text.slice(i, end);
        const value = Number(literal);
        if (!(Math.abs(value) <= Number.MAX_SAFE_INTEGER) && !Number.isNaN(value))
          return { problem: { kind: 'number', literal }, ...(withPath ? { path: path() } : {}) };
      } else if (end - i > 1) {
        // An exponent makes a short literal large (1e300).
        for (let k = i; k < end; k++) {
          const ch = text.charCodeAt(k);
          if (ch === 0x65 || ch === 0x45) {
            const literal = text.slice(i, end);
            const value = Number(literal);
            if (!(Math.abs(value) <= Number.MAX_SAFE_INTEGER) && !Number.isNaN(value))
              return { problem: { kind: 'number', literal }, ...(withPath ? { path: path() } : {}) };
            break;
          }
        }
      }
      i = end;
      continue;
    }
    i++;
  }
  return undefined;
}

/** A key as a path segment (long or odd keys shortened, so the message stays readable). */
function safeKey(raw: string): string {
  const key = raw.length > 64 ? `${raw.slice(0, 64)}…` : raw;
  return /^[A-Za-z0-9_$-]*$/.test(key) ? key : JSON.stringify(key);
}

function indexOrEnd(text: string, what: string, from: number): number {
  const at = text.indexOf(what, from);
  return at === -1 ? text.length : at;
}
