/** The one region precedence (issue 12, item 10): --region › config › AWS_REGION › AWS_DEFAULT_REGION › the profile's. */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { profileRegion, resolveRegion } from '../../src/aws/region.js';

const home = mkdtempSync(path.join(tmpdir(), 'vidpipe-region-'));
mkdirSync(path.join(home, '.aws'));
writeFileSync(
  path.join(home, '.aws', 'config'),
  ['[default]', 'region = ap-south-1', '', '[profile work]  ; a comment', 'output = json', 'region=eu-north-1', '[profile bare]', 'output = text'].join('\n'),
);
const env = { HOME: home };

describe('resolveRegion', () => {
  it('takes each source in order', () => {
    const all = { flag: 'us-west-1', configRegion: 'us-west-2', profile: 'work', env: { ...env, AWS_REGION: 'ca-central-1', AWS_DEFAULT_REGION: 'sa-east-1' } };
    expect(resolveRegion(all)).toEqual({ region: 'us-west-1', source: '--region' });
    expect(resolveRegion({ ...all, flag: undefined })).toEqual({ region: 'us-west-2', source: 'config' });
    expect(resolveRegion({ ...all, flag: undefined, configRegion: undefined })).toEqual({ region: 'ca-central-1', source: 'AWS_REGION' });
    expect(resolveRegion({ profile: 'work', env: { ...env, AWS_DEFAULT_REGION: 'sa-east-1' } })).toEqual({ region: 'sa-east-1', source: 'AWS_DEFAULT_REGION' });
    expect(resolveRegion({ profile: 'work', env })).toEqual({ region: 'eu-north-1', source: 'profile' });
  });
  it('reads the profile from --profile, else AWS_PROFILE, else the default section', () => {
    expect(resolveRegion({ env: { ...env, AWS_PROFILE: 'work' } })?.region).toBe('eu-north-1');
    expect(resolveRegion({ env })?.region).toBe('ap-south-1');
    expect(profileRegion('bare', env)).toBeUndefined();
    expect(resolveRegion({ profile: 'bare', env })).toBeUndefined();
    expect(profileRegion('work', { AWS_CONFIG_FILE: path.join(home, 'nope') })).toBeUndefined();
  });
});
