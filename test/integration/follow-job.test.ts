/** followJob against a real HTTP listener stub on 127.0.0.1 and a mocked MediaConvert GetJob. */
import { createServer, type Server } from 'node:http';
import { GetJobCommand, MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { followJob, type JobSnapshot } from '../../src/upload/follow-job.js';
import { freePort } from '../helpers/moto.js';

const mc = new MediaConvertClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const mock = mockClient(mc);
const job = (Status: string, extra: Record<string, unknown> = {}) => ({ Job: { Id: 'j1', Role: 'r', Settings: {}, Status, ...extra } }) as never;

describe('followJob', () => {
  let server: Server;
  let base: string;
  /** What the stub answers for GET /api/videos/j1, in turn; the last one repeats. */
  let answers: { status: number; body?: unknown }[];
  const seenHeaders: (string | undefined)[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seenHeaders.push(req.headers['x-api-key'] as string | undefined);
      const a = answers.length > 1 ? answers.shift()! : answers[0]!;
      expect(req.url).toBe('/api/videos/j1');
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body ?? { error: 'not_found' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    mock.reset();
    seenHeaders.length = 0;
  });

  it('reads the listener once it knows the job; GetJob until then', async () => {
    answers = [
      { status: 404 },
      { status: 200, body: { video: { jobId: 'j1', status: 'PROGRESSING', progress: 40, currentPhase: 'TRANSCODING', outputs: null } } },
      { status: 200, body: { video: { jobId: 'j1', status: 'COMPLETE', progress: 100, outputs: [{ uri: 's3://out/p/mp4/a.mp4' }] } } },
    ];
    mock.on(GetJobCommand).resolves(job('SUBMITTED'));
    const updates: JobSnapshot[] = [];
    const final = await followJob({
      jobId: 'j1',
      mediaconvert: async () => mc,
      listener: { baseUrl: base, headers: { 'x-api-key': 'k1' } },
      onUpdate: (s) => updates.push(s),
      initialIntervalMs: 5,
    });
    expect(final).toEqual({ jobId: 'j1', status: 'COMPLETE', percent: 100, outputs: ['s3://out/p/mp4/a.mp4'], source: 'listener' });
    expect(updates.map((u) => [u.source, u.status, u.phase, u.percent])).toEqual([
      ['mediaconvert', 'SUBMITTED', undefined, undefined],
      ['listener', 'PROGRESSING', 'TRANSCODING', 40],
      ['listener', 'COMPLETE', undefined, 100],
    ]);
    expect(mock.commandCalls(GetJobCommand)).toHaveLength(1);
    expect(seenHeaders).toEqual(['k1', 'k1', 'k1']);
  });

  it('a listener that refuses the credentials is an error naming which were sent (never the key), exit 5', async () => {
    answers = [{ status: 401, body: { error: 'unauthorized' } }];
    mock.on(GetJobCommand).resolves(job('PROGRESSING'));
    const err = await followJob({
      jobId: 'j1',
      mediaconvert: async () => mc,
      listener: { baseUrl: base, headers: { 'x-api-key': 'vp_secret_key_value' }, credentials: 'the API key from .vidpipe/secrets.json (header x-api-key)' },
      initialIntervalMs: 5,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LISTENER_REFUSED_CREDENTIALS', exitCode: 5 });
    expect((err as Error).message).toBe(`The listener at ${base} refused the API key from .vidpipe/secrets.json (header x-api-key) (HTTP 401).`);
    expect(`${(err as Error).message} ${(err as { hint: string }).hint}`).not.toContain('vp_secret_key_value');
    expect((err as { hint: string }).hint).toMatch(/VIDPIPE_API_KEY/);
    expect(mock.commandCalls(GetJobCommand)).toHaveLength(0);
  });

  it('reports every poll (elapsed-time display) and each change once', async () => {
    answers = [{ status: 404 }];
    mock
      .on(GetJobCommand)
      .resolvesOnce(job('PROGRESSING', { CurrentPhase: 'PROBING', JobPercentComplete: 0 }))
      .resolvesOnce(job('PROGRESSING', { CurrentPhase: 'PROBING', JobPercentComplete: 0 }))
      .resolves(job('ERROR', { ErrorCode: 1010, ErrorMessage: 'Unsupported codec' }));
    const polls: string[] = [];
    const updates: string[] = [];
    const final = await followJob({
      jobId: 'j1',
      mediaconvert: async () => mc,
      listener: { baseUrl: base, headers: {} },
      onPoll: (s) => polls.push(s.status),
      onUpdate: (s) => updates.push(s.status),
      initialIntervalMs: 5,
    });
    expect(final).toMatchObject({ status: 'ERROR', errorCode: '1010', errorMessage: 'Unsupported codec', source: 'mediaconvert' });
    expect(polls).toEqual(['PROGRESSING', 'PROGRESSING', 'ERROR']);
    expect(updates).toEqual(['PROGRESSING', 'ERROR']);
  });

  it('an unreachable listener: GetJob, with the outputs the template writes on COMPLETE', async () => {
    const port = await freePort();
    mock.on(GetJobCommand).resolves(job('COMPLETE'));
    const reasons: string[] = [];
    const final = await followJob({
      jobId: 'j1',
      mediaconvert: async () => mc,
      listener: { baseUrl: `http://127.0.0.1:${port}`, headers: {} },
      expectedOutputs: ['s3://out/x/mp4/x.mp4'],
      onListenerUnavailable: (r) => reasons.push(r),
    });
    expect(final).toEqual({ jobId: 'j1', status: 'COMPLETE', percent: 100, outputs: ['s3://out/x/mp4/x.mp4'], source: 'mediaconvert' });
    expect(reasons[0]).toMatch(/does not answer/);
  });

  it('backs off between polls and stops on abort (InterruptedError, exit 130)', async () => {
    mock.on(GetJobCommand).resolves(job('PROGRESSING'));
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 150);
    await expect(followJob({ jobId: 'j1', mediaconvert: async () => mc, signal: controller.signal, initialIntervalMs: 40, maxIntervalMs: 60 })).rejects.toMatchObject({ exitCode: 130 });
    expect(Date.now() - started).toBeLessThan(1000);
    // 40 ms, then 60 ms (capped), then 60 ms: 3 or 4 polls in 150 ms.
    expect(mock.commandCalls(GetJobCommand).length).toBeGreaterThanOrEqual(3);
    expect(mock.commandCalls(GetJobCommand).length).toBeLessThanOrEqual(4);
  });
});
