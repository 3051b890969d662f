import { describe, expect, it } from 'vitest';
import { parseSimulateOptions } from '../../src/cli/commands/simulate-complete.js';
import { UsageError } from '../../src/errors.js';
import { resolveListenerUrl } from '../../src/simulate/simulate.js';
import { defaultConfig } from '../../src/config/config.js';
import { classifyAnswer, runPool, summarizeLatency } from '../../src/simulate/load.js';

const parse = (o: Record<string, unknown>) => parseSimulateOptions(o, '/tmp/x/vidpipe.config.json');

function usageError(o: Record<string, unknown>): UsageError {
  try {
    parse(o);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('parseSimulateOptions', () => {
  it('defaults: one COMPLETE event over http', () => {
    expect(parse({})).toMatchObject({ status: 'COMPLETE', via: 'http', count: 1, concurrency: 10, sequence: false, print: false, outputs: undefined });
  });

  it('accepts every status, in any case', () => {
    expect(parse({ status: 'queue_hop' }).status).toBe('QUEUE_HOP');
    expect(usageError({ status: 'DONE' }).message).toMatch(/--status must be one of COMPLETE, ERROR, PROGRESSING/);
  });

  it('--error-code/--error-message only with ERROR, and a whole number', () => {
    expect(parse({ status: 'ERROR', errorCode: '1040', errorMessage: 'x' })).toMatchObject({ errorCode: 1040, errorMessage: 'x' });
    expect(usageError({ errorCode: '1040' }).code).toBe('ERROR_FLAGS_WITHOUT_ERROR');
    expect(usageError({ status: 'ERROR', errorCode: 'ten' }).code).toBe('BAD_NUMBER');
  });

  it('--sequence ends in a terminal status; --shuffle needs --sequence', () => {
    expect(usageError({ sequence: true, status: 'PROGRESSING' }).code).toBe('BAD_SEQUENCE_STATUS');
    expect(usageError({ shuffle: true }).code).toBe('SHUFFLE_WITHOUT_SEQUENCE');
    expect(parse({ sequence: true, status: 'ERROR', shuffle: true, duplicate: true })).toMatchObject({ sequence: true, shuffle: true, duplicate: true });
  });

  it('bounds --count and --concurrency; --job-id is one job', () => {
    expect(usageError({ count: '0' }).code).toBe('BAD_NUMBER');
    expect(usageError({ count: '100001' }).code).toBe('BAD_NUMBER');
    expect(usageError({ count: '10001', sequence: true }).code).toBe('BAD_NUMBER');
    expect(usageError({ concurrency: '257' }).code).toBe('BAD_NUMBER');
    expect(usageError({ count: '2', jobId: 'a' }).code).toBe('JOB_ID_WITH_COUNT');
    expect(usageError({ jobId: 'a b' }).code).toBe('BAD_JOB_ID');
  });

  it('URLs and vias', () => {
    expect(parse({ to: 'http://127.0.0.1:9/x' }).to?.href).toBe('http://127.0.0.1:9/x');
    expect(usageError({ to: 'ftp://x' }).code).toBe('BAD_URL');
    expect(usageError({ to: 'http://x', via: 'eventbridge' }).code).toBe('TO_WITHOUT_HTTP');
    expect(usageError({ source: 'x.y' }).code).toBe('SOURCE_WITHOUT_EVENTBRIDGE');
  });

  it('outputs: s3 URIs, only for COMPLETE; HLS renditions and the thumbnail follow the templates', () => {
    const o = parse({ output: ['s3://bucket/a.mp4', 's3://bucket/b.mp4'], hls: 's3://bucket/hls/main.m3u8', thumbnail: 's3://bucket/thumbs/' });
    expect(o.outputs!.mp4).toEqual(['s3://bucket/a.mp4', 's3://bucket/b.mp4']);
    expect(o.outputs!.hls!.playlist).toBe('s3://bucket/hls/main.m3u8');
    expect(o.outputs!.hls!.renditions.map((r) => r.path)).toContain('s3://bucket/hls/main_720.m3u8');
    expect(o.outputs!.thumbnail).toBe('s3://bucket/thumbs/sample.0000006.jpg');
    expect(usageError({ output: ['/tmp/a.mp4'] }).code).toBe('BAD_S3_URI');
    // Looks like an S3 URI, but "b" is no bucket name: the message says why.
    expect(usageError({ output: ['s3://b/x.mp4'] }).message).toMatch(/valid bucket name \(3-63 lower-case/);
    expect(usageError({ hls: 's3://bucket/hls/main.mpd' }).code).toBe('BAD_HLS_URI');
    expect(usageError({ status: 'ERROR', output: ['s3://bucket/a.mp4'] }).code).toBe('OUTPUTS_WITHOUT_COMPLETE');
  });
});

describe('resolveListenerUrl', () => {
  it('--to, else listener.url, else where `vidpipe listen` binds (PORT/HOST env › config.listen › 127.0.0.1:3000)', () => {
    const config = defaultConfig('demo');
    expect(resolveListenerUrl(new URL('http://a:1/p'), config).href).toBe('http://a:1/p');
    expect(resolveListenerUrl(undefined, undefined).href).toBe('http://127.0.0.1:3000/aws/listener/eventbridge/video');
    expect(resolveListenerUrl(undefined, { ...config, listen: { host: '0.0.0.0', port: 4000 } }).href).toBe('http://127.0.0.1:4000/aws/listener/eventbridge/video');
    expect(resolveListenerUrl(undefined, { ...config, listen: { host: 'localhost' } }).href).toBe('http://localhost:3000/aws/listener/eventbridge/video');
    // A set-up directory has a public URL: the local listener is still the default; --public picks the public one.
    expect(resolveListenerUrl(undefined, { ...config, listener: { ...config.listener, url: 'https://x.example/hook' } }).href).toBe('http://127.0.0.1:3000/aws/listener/eventbridge/video');
    expect(resolveListenerUrl(undefined, { ...config, listener: { ...config.listener, url: 'https://x.example/hook' } }, {}, true).href).toBe('https://x.example/hook');
    expect(() => resolveListenerUrl(undefined, config, {}, true)).toThrow(/--public: the config has no listener.url/);
    expect(resolveListenerUrl(undefined, { ...config, listen: { port: 4000 } }, { PORT: '5000', HOST: '::1' }).href).toBe('http://[::1]:5000/aws/listener/eventbridge/video');
  });
});

describe('load helpers', () => {
  it('runPool keeps at most `concurrency` in flight and does every item', async () => {
    let inFlight = 0;
    let peak = 0;
    const done: number[] = [];
    await runPool(Array.from({ length: 40 }, (_, i) => i), 4, async (i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 1 + (i % 3)));
      inFlight--;
      done.push(i);
    });
    expect(peak).toBe(4);
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('runPool stops taking items after a failure and rethrows it', async () => {
    const seen: number[] = [];
    await expect(
      runPool([1, 2, 3, 4, 5, 6], 1, async (i) => {
        seen.push(i);
        if (i === 2) throw new Error('stop');
      }),
    ).rejects.toThrow('stop');
    expect(seen).toEqual([1, 2]);
  });

  it('nearest-rank percentiles', () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(summarizeLatency(samples)).toEqual({ p50: 50, p95: 95, p99: 99, max: 100 });
    expect(summarizeLatency([])).toEqual({ p50: 0, p95: 0, p99: 0, max: 0 });
  });

  it('classifies answers', () => {
    expect(classifyAnswer(200, '{"duplicate":true}')).toBe('duplicate');
    expect(classifyAnswer(202, '{"status":"processed"}')).toBe('processed');
    expect(classifyAnswer(200, 'ok')).toBe('other');
    expect(classifyAnswer(401, '{"status":"x"}')).toBe('rejected');
  });
});
