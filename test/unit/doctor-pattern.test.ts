/** vidpipe's event-pattern matcher, doctor's fallback where TestEventPattern is not answered (moto 5.2). */
import { describe, expect, it } from 'vitest';
import { eventPattern } from '../../src/provision/documents.js';
import { defaultConfig } from '../../src/config/config.js';
import { matchesPattern, UnsupportedPatternError } from '../../src/doctor/pattern.js';
import { mediaConvertSampleEvent } from '../../src/doctor/sample-event.js';
import { listenerBase, exitCodeOf } from '../../src/doctor/doctor.js';
import { traceStatus } from '../../src/doctor/trace.js';

describe('matchesPattern', () => {
  const rule = eventPattern({ ...defaultConfig('x'), statuses: ['COMPLETE', 'ERROR'] });

  it("matches the documented COMPLETE sample with vidpipe's rule pattern, and not a status the rule leaves out", () => {
    expect(matchesPattern(rule, mediaConvertSampleEvent('COMPLETE'))).toBe(true);
    expect(matchesPattern(rule, mediaConvertSampleEvent('PROGRESSING'))).toBe(false);
    expect(matchesPattern({ ...rule, source: ['somewhere.else'] }, mediaConvertSampleEvent())).toBe(false);
    expect(matchesPattern({ ...rule, detail: { status: ['COMPLETE'], userMetadata: { postId: [{ exists: true }] } } }, mediaConvertSampleEvent())).toBe(false);
  });

  it('knows arrays in the event, prefix, suffix, anything-but, exists, numeric and equals-ignore-case', () => {
    const e = mediaConvertSampleEvent();
    expect(matchesPattern({ resources: [{ prefix: 'arn:aws:mediaconvert:' }] }, e)).toBe(true);
    expect(matchesPattern({ resources: [{ suffix: 'phptj0' }] }, e)).toBe(true);
    expect(matchesPattern({ detail: { status: [{ 'anything-but': ['ERROR'] }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { status: [{ 'anything-but': 'COMPLETE' }] } }, e)).toBe(false);
    expect(matchesPattern({ detail: { nothere: [{ exists: false }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { timestamp: [{ numeric: ['>', 0, '<=', 1671476832124] }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { status: [{ 'equals-ignore-case': 'complete' }] } }, e)).toBe(true);
    expect(() => matchesPattern({ detail: { status: [{ wildcard: 'C*' }] } }, e)).toThrow(UnsupportedPatternError);
  });
});

describe('doctor helpers', () => {
  it('finds the listener beside the event path, behind a proxy prefix too', () => {
    const config = { ...defaultConfig('x'), listener: { url: 'https://h.example/vp/aws/listener/eventbridge/video', auth: 'API_KEY' as const, authHeader: 'x-api-key' } };
    expect(listenerBase(config, undefined, {})).toBe('https://h.example/vp');
    expect(listenerBase(config, new URL('http://127.0.0.1:3000'), {})).toBe('http://127.0.0.1:3000');
    expect(listenerBase(defaultConfig('x'), undefined, { PORT: '4000' })).toBe('http://127.0.0.1:4000');
  });

  it('exit code: 3 for an access failure over 4 for a broken hop; warnings pass', () => {
    const c = (status: 'ok' | 'warn' | 'fail', access = false) => ({ hop: 'h', id: 'i', title: 't', status, saw: '', ...(access ? { access } : {}) });
    expect(exitCodeOf([c('ok'), c('warn')])).toBe(0);
    expect(exitCodeOf([c('fail'), c('ok')])).toBe(4);
    expect(exitCodeOf([c('fail'), c('fail', true)])).toBe(3);
  });

  it('traces with a status that does not end the job when the rule forwards one', () => {
    expect(traceStatus(['COMPLETE', 'ERROR'])).toBe('COMPLETE');
    expect(traceStatus(['COMPLETE', 'PROGRESSING'])).toBe('PROGRESSING');
    expect(traceStatus(['ERROR'])).toBe('ERROR');
  });
});
