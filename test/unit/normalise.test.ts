import { describe, expect, it } from 'vitest';
import { EventFieldError, TEST_BODY_SOURCE, normaliseEvent, parseIsoDateTime, timestampToMs } from '../../src/events/normalise.js';
import { canonicalJson } from '../../src/util/canonical-json.js';
import { compileListenerBodyValidator } from '../../src/events/schema.js';
import { FIXTURE_NAMES, fixture } from '../helpers/listener.js';

const opts = { processedSources: ['vidpipe.simulator'] };

describe('normaliseEvent', () => {
  it('takes id, source and time from the envelope and the epoch-ms timestamp from the detail', () => {
    const e = normaliseEvent(fixture('complete-file-group'), opts);
    expect(e).toMatchObject({ eventId: '1234abcd-12ab-34cd-56ef-1234567890ab', source: 'aws.mediaconvert', processed: true, testBody: false, time: '2022-12-19T19:07:12Z', timestampMs: 1671476832124 });
  });

  it('gives a curl body a stable content id and parses its ISO timestamp', () => {
    const body = fixture('curl-body');
    const e = normaliseEvent(body, opts);
    expect(e).toMatchObject({ source: TEST_BODY_SOURCE, processed: true, testBody: true, timestampMs: Date.parse('2024-05-01T12:00:00Z') });
    const reordered = normaliseEvent({ detail: Object.fromEntries(Object.entries(body.detail).reverse()) }, opts);
    expect(reordered.eventId).toBe(e.eventId);
    expect(normaliseEvent({ detail: { ...body.detail, jobId: 'other' } }, opts).eventId).not.toBe(e.eventId);
  });

  it('processes the simulator source, ignores other sources and detail-types', () => {
    const body = fixture('progressing');
    expect(normaliseEvent({ ...body, source: 'vidpipe.simulator' }, opts).processed).toBe(true);
    expect(normaliseEvent({ ...body, source: 'someone.else' }, opts).processed).toBe(false);
    expect(normaliseEvent({ ...body, 'detail-type': 'MediaConvert Queue State Change' }, opts).processed).toBe(false);
  });

  it('rejects an ISO timestamp that is not a date', () => {
    expect(() => normaliseEvent({ detail: { jobId: 'j', status: 'COMPLETE', timestamp: '2024-02-30T25:00:00Z' } }, opts)).toThrow(EventFieldError);
  });

  it('reads ISO date-times strictly: no zone is UTC, offsets apply, impossible dates are refused', () => {
    expect(parseIsoDateTime('2024-03-14T12:00:00')).toBe(Date.UTC(2024, 2, 14, 12));
    expect(parseIsoDateTime('2024-03-14T12:00:00.5Z')).toBe(Date.UTC(2024, 2, 14, 12, 0, 0, 500));
    expect(parseIsoDateTime('2024-03-14T12:00:00.123456')).toBe(Date.UTC(2024, 2, 14, 12, 0, 0, 123));
    expect(parseIsoDateTime('2024-03-14T12:00:00-0500')).toBe(Date.UTC(2024, 2, 14, 17));
    expect(parseIsoDateTime('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    for (const bad of ['2023-02-29T00:00:00Z', '2024-04-31T00:00:00Z', '2024-13-01T00:00:00Z', '2024-00-10T00:00:00Z', '2024-03-14T24:00:00Z', '2024-03-14T12:60:00Z', '2024-03-14T12:00:60Z', '2024-03-14T12:00:00+24:00', '2024-03-14', 'x'])
      expect(parseIsoDateTime(bad), bad).toBeUndefined();
    expect(() => timestampToMs(1.5)).toThrow(/whole epoch milliseconds/);
    expect(() => timestampToMs(1e300)).toThrow(/between 0 and/);
    expect(timestampToMs(1671476832124)).toBe(1671476832124);
  });

  it('canonical JSON sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
  });
});

describe('listenerBodySchema', () => {
  it('accepts every repaired AWS sample and the curl body', async () => {
    const validate = await compileListenerBodyValidator();
    for (const name of [...FIXTURE_NAMES, 'curl-body']) expect(validate(fixture(name)), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
  });

  it('requires the whole envelope once one envelope field is there', async () => {
    const validate = await compileListenerBodyValidator();
    expect(validate({ id: 'x', detail: fixture('progressing').detail })).toBe(false);
    expect(validate.errors?.[0]?.params).toMatchObject({ missingProperty: 'source' });
  });
});
