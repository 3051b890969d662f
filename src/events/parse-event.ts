/**
 * A request or queue message body → one validated, normalised event, or the reason it can never be one. Shared by
 * every transport (the HTTP route answers 400 with the reason; the SQS puller leaves the message for the redrive
 * policy), so both accept exactly the same events.
 */
import { Ajv, type ErrorObject } from 'ajv';
import sjson from 'secure-json-parse';
import { EventFieldError, normaliseEvent, type NormalisedEvent, type NormaliseOptions } from './normalise.js';
import { checkJsonLimits } from './json-limits.js';
import { PATTERN_WORDS, listenerBodySchema } from './schema.js';

export type ParsedEvent = { ok: true; event: NormalisedEvent } | { ok: false; message: string };

/** `body.detail.jobId must match pattern "…"`: the field a sender has to fix. */
export function describeBodyError(e: ErrorObject | undefined): string {
  if (!e) return 'body is invalid';
  const where = `body${e.instancePath.replace(/\//g, '.').replace(/~1/g, '/').replace(/~0/g, '~')}`;
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'required') return `${where}.${String(p.missingProperty)} is required`;
  if (e.keyword === 'dependencies')
    return `${where}.${String(p.missingProperty)} is required when ${String(p.property)} is present (send the whole EventBridge envelope, or only {"detail": …})`;
  if (e.keyword === 'enum') return `${where} must be one of ${(p.allowedValues as unknown[]).join(', ')}`;
  if (e.keyword === 'pattern' && PATTERN_WORDS[String(p.pattern)]) return `${where} ${PATTERN_WORDS[String(p.pattern)]}`;
  return `${where} ${e.message ?? 'is invalid'}`;
}

/** Compiles the schema once; the parser validates an already parsed body. */
export function createEventParser(options: NormaliseOptions): (body: unknown) => ParsedEvent {
  const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false, useDefaults: false });
  const validateBody = ajv.compile(listenerBodySchema);
  return (body) => {
    if (!validateBody(body)) return { ok: false, message: describeBodyError(validateBody.errors?.[0]) };
    try {
      return { ok: true, event: normaliseEvent(body as unknown as Record<string, unknown>, options) };
    } catch (err) {
      if (err instanceof EventFieldError) return { ok: false, message: err.message };
      throw err;
    }
  };
}

/**
 * Text → the same result, for transports that get text (an SQS message body): JSON parsed with the prototype-poisoning
 * refusal fastify applies to HTTP bodies (`__proto__` and `constructor.prototype` keys are errors).
 */
export function parseEventText(text: string, parse: (body: unknown) => ParsedEvent): ParsedEvent {
  // The same depth, number-range and Unicode limits as HTTP bodies, on the text, before anything recurses over it.
  const overLimit = checkJsonLimits(text);
  if (overLimit) return { ok: false, message: overLimit.message };
  let body: unknown;
  try {
    body = sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (err) {
    return { ok: false, message: `body is not JSON: ${(err as Error).message}` };
  }
  return parse(body);
}
