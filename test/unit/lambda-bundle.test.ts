import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { bundleLambda, LAMBDA_ENTRY_FILE } from '../../src/lambda/bundle.js';

describe('bundleLambda', () => {
  it('zips one self-contained CommonJS file exporting the handler, reproducibly', async () => {
    const a = await bundleLambda();
    const files = unzipSync(new Uint8Array(a.zip));
    expect(Object.keys(files)).toEqual([LAMBDA_ENTRY_FILE]);
    const js = Buffer.from(files[LAMBDA_ENTRY_FILE]!).toString('utf8');
    expect(js.length).toBe(a.codeBytes);
    // The SDK is inside: at run time it requires only Node built-ins, and the optional signers the SDK itself loads in
    // a try/catch (SigV4a / CRT, unused by S3 and MediaConvert here).
    const required = [...new Set(Array.from(js.matchAll(/require\(["']([^"']+)["']\)/g), (m) => m[1]!))];
    expect(required.filter((r) => !r.startsWith('node:') && !/^@aws-sdk\/signature-v4(a|-crt)$/.test(r))).toEqual([]);
    expect(js).toContain('s3:TestEvent');
    expect(a.sha256).toBe(createHash('sha256').update(a.zip).digest('base64'));
    // Load it as Lambda would and call it with the test event.
    const mod: { exports: { handler?: (e: unknown) => Promise<unknown> } } = { exports: {} };
    new Function('module', 'exports', 'require', js)(mod, mod.exports, (await import('node:module')).createRequire(import.meta.url));
    expect(typeof mod.exports.handler).toBe('function');
    const env = { VIDPIPE_APP: 'demo', VIDPIPE_TEMPLATE: 'mp4', VIDPIPE_JOB_ROLE_ARN: 'arn:aws:iam::1:role/r', VIDPIPE_OUTPUT_BUCKET: 'out', AWS_REGION: 'us-east-1' };
    Object.assign(process.env, env);
    try {
      expect(await mod.exports.handler!({ Event: 's3:TestEvent' })).toEqual({ jobs: [], skipped: [] });
    } finally {
      for (const k of Object.keys(env)) if (k !== 'AWS_REGION') delete process.env[k];
    }
    const b = await bundleLambda();
    expect(b.sha256).toBe(a.sha256);
  }, 60_000);
});
