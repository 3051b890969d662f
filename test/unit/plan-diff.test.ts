/** The plan shows each change as field, AWS value, wanted value (issue 12, item 7). */
import { describe, expect, it } from 'vitest';
import { describeDifference, jsonChanges } from '../../src/provision/diff.js';

describe('jsonChanges', () => {
  it('names the leaves that differ, with both values', () => {
    const current = { Version: '2012-10-17', Statement: [{ Sid: 'A', Action: 's3:GetObject', Resource: 'arn:aws:s3:::in/*' }] };
    const wanted = { Version: '2012-10-17', Statement: [{ Sid: 'A', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: 'arn:aws:s3:::in/*' }] };
    expect(jsonChanges('permissions', current, wanted)).toEqual([
      { field: 'permissions.Statement[0].Action', current: 's3:GetObject', wanted: ['s3:GetObject', 's3:GetObjectVersion'] },
    ]);
  });
  it('an added or removed key, and arrays of another length as a whole', () => {
    expect(jsonChanges('p', { a: 1 }, { a: 1, b: 2 })).toEqual([{ field: 'p.b', current: undefined, wanted: 2 }]);
    expect(jsonChanges('p', { s: ['A', 'B'] }, { s: ['A'] })).toEqual([{ field: 'p.s', current: ['A', 'B'], wanted: ['A'] }]);
    expect(jsonChanges('p', { a: 1 }, { a: 1 })).toEqual([]);
  });
  it('reads as a sentence in the reason', () => {
    expect(describeDifference({ field: 'InvocationRateLimitPerSecond', current: 10, wanted: 25 })).toBe('InvocationRateLimitPerSecond: 10 → 25');
    expect(describeDifference({ field: 'tag vidpipe:app', current: undefined, wanted: 'demo' })).toBe('tag vidpipe:app: (none) → demo');
  });
});
