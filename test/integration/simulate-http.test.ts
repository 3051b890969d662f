/**
 * The built CLI against a real local HTTP server that records what arrives: EventBridge's exact headers, the key
 * header from each key source, the body, and what the CLI makes of the answers.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { secretsPathFor, writeSecrets } from '../../src/config/secrets.js';
import { compileListenerBodyValidator } from '../../src/events/schema.js';
import type { JobStateChangeEvent } from '../../src/events/types.js';
import { freePort } from '../helpers/moto.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaderNames: string[];
  body: JobStateChangeEvent;
}

let server: Server;
let url: string;
let port: number;
let received: Received[] = [];
let inFlight = 0;
let peakInFlight = 0;
let answer: { status: number; body: string; delayMs?: number } = { status: 200, body: '{"status":"processed"}' };

beforeAll(async () => {
  server = createServer((req, res) => {
    inFlight++;
    peakInFlight = Math.max(peakInFlight, inFlight);
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      received.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        rawHeaderNames: req.rawHeaders.filter((_, i) => i % 2 === 0),
        body: JSON.parse(text),
      });
      setTimeout(() => {
        inFlight--;
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
  url = `http://127.0.0.1:${port}/aws/listener/eventbridge/video`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  received = [];
  peakInFlight = 0;
  answer = { status: 200, body: '{"status":"processed"}' };
});

const freshDir = () => mkdtempSync(path.join(tmpdir(), 'vidpipe-sim-http-'));
const KEY = 'vp_test-key-0123456789';

describe('simulate-complete --via http (built CLI, real HTTP server)', () => {
  it("sends EventBridge's exact headers, the API key header and a valid envelope; prints the answer", async () => {
    const run = await runCli(['simulate-complete', '--to', url, '--post', '42'], { cwd: freshDir(), env: { VIDPIPE_API_KEY: KEY } });
    expect(run.stderr).not.toContain(KEY);
    expect(run.code, run.stderr).toBe(0);
    expect(received).toHaveLength(1);
    const r = received[0]!;
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/aws/listener/eventbridge/video');
    expect(r.headers).toMatchObject({
      'user-agent': 'Amazon/EventBridge/ApiDestinations',
      'content-type': 'application/json; charset=utf-8',
      range: 'bytes=0-1048575',
      'accept-encoding': 'gzip,deflate',
      connection: 'close',
      'x-api-key': KEY,
      'content-length': String(Buffer.byteLength(JSON.stringify(r.body))),
    });
    expect(r.headers.authorization).toBeUndefined();
    expect(r.rawHeaderNames).toEqual(expect.arrayContaining(['User-Agent', 'Content-Type', 'Range', 'Accept-Encoding', 'Connection']));
    const validate = await compileListenerBodyValidator();
    expect(validate(r.body), JSON.stringify(validate.errors)).toBe(true);
    expect(r.body.detail).toMatchObject({ status: 'COMPLETE', userMetadata: { postId: '42' } });
    expect(run.stdout).toContain(`COMPLETE`);
    expect(run.stdout).toContain(`${r.body.detail.jobId}  → 200 {"status":"processed"}`);
    expect(run.stderr).toContain(`/api/videos/${r.body.detail.jobId}`);
  });

  it('with no flags: the URL from config.listen, the key from the secrets file, in the configured header', async () => {
    const dir = freshDir();
    const configPath = path.join(dir, 'vidpipe.config.json');
    const config = { ...defaultConfig('demo'), listen: { port }, listener: { auth: 'API_KEY' as const, authHeader: 'x-vidpipe-key' } };
    writeFileSync(configPath, JSON.stringify(config));
    writeSecrets(secretsPathFor(configPath), { apiKeys: ['vp_newest', 'vp_older'] });
    const run = await runCli(['simulate-complete', '--json'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(received[0]!.headers['x-vidpipe-key']).toBe('vp_newest');
    expect(received[0]!.headers['x-api-key']).toBeUndefined();
    // Defaults follow the templates' naming under the configured output bucket.
    const paths = received[0]!.body.detail.outputGroupDetails!.flatMap((g) => g.outputDetails!.flatMap((o) => o.outputFilePaths!));
    expect(paths.every((p) => p.startsWith(`s3://demo-output/simulated/${received[0]!.body.detail.jobId}/`))).toBe(true);
    const doc = JSON.parse(run.stdout);
    expect(doc).toMatchObject({ via: 'http', url, jobId: received[0]!.body.detail.jobId, answers: [{ httpStatus: 200, status: 'COMPLETE' }] });
    // The listener's answer is a JSON value in the document, not a string holding JSON.
    expect(doc.answers[0].answer).toEqual(expect.objectContaining({ status: expect.any(String) }));
    expect(doc.answers[0]).not.toHaveProperty('body');
  });

  it('Basic credentials when there is no API key', async () => {
    const run = await runCli(['simulate-complete', '--to', url], { cwd: freshDir(), env: { VIDPIPE_BASIC_AUTH: 'eb:s3cret' } });
    expect(run.code, run.stderr).toBe(0);
    expect(received[0]!.headers.authorization).toBe(`Basic ${Buffer.from('eb:s3cret').toString('base64')}`);
  });

  it('a non-2xx answer exits 5 and shows the status and the body', async () => {
    answer = { status: 401, body: '{"error":"unauthorized","message":"missing or wrong API key"}' };
    const run = await runCli(['simulate-complete', '--to', url], { cwd: freshDir(), env: { VIDPIPE_API_KEY: KEY } });
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('answered 401');
    expect(run.stderr).toContain('missing or wrong API key');
    expect(run.stderr).toMatch(/hint: .*VIDPIPE_API_KEY/);
    expect(run.stderr).not.toContain(KEY);
  });

  it('nothing listening: exit 5 naming the URL and asking whether `vidpipe listen` runs', async () => {
    const closed = `http://127.0.0.1:${await freePort()}/aws/listener/eventbridge/video`;
    const run = await runCli(['simulate-complete', '--to', closed], { cwd: freshDir(), env: { VIDPIPE_API_KEY: KEY } });
    expect(run.code).toBe(5);
    expect(run.stderr).toContain(closed);
    expect(run.stderr).toContain('is `vidpipe listen` running?');
  });

  it('no key anywhere: exit 2 saying where it looked and how to get one', async () => {
    const run = await runCli(['simulate-complete', '--to', url], { cwd: freshDir() });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/VIDPIPE_API_KEY is not set and .*\.vidpipe\/secrets\.json has none/);
    expect(run.stderr).toMatch(/hint: Start `vidpipe listen` once/);
    expect(received).toHaveLength(0);
  });

  it('--sequence --duplicate --shuffle: every event of the life twice (same ids), out of order', async () => {
    const run = await runCli(['simulate-complete', '--to', url, '--sequence', '--duplicate', '--shuffle'], { cwd: freshDir(), env: { VIDPIPE_API_KEY: KEY } });
    expect(run.code, run.stderr).toBe(0);
    expect(received).toHaveLength(14);
    const ids = received.map((r) => r.body.id);
    expect(new Set(ids).size).toBe(7);
    for (const id of new Set(ids)) expect(ids.filter((i) => i === id)).toHaveLength(2);
    const stamps = received.map((r) => r.body.detail.timestamp as number);
    expect(stamps).not.toEqual([...stamps].sort((a, b) => a - b));
    expect(new Set(received.map((r) => r.body.detail.status))).toEqual(new Set(['PROGRESSING', 'STATUS_UPDATE', 'COMPLETE', 'INPUT_INFORMATION']));
    expect(run.stdout.trim().split('\n')).toHaveLength(14);
  });

  it('--count N --concurrency C: N distinct jobs, at most C in flight, a summary of answers and latency', async () => {
    answer = { status: 200, body: '{"status":"processed"}', delayMs: 20 };
    const run = await runCli(['simulate-complete', '--to', url, '--count', '40', '--concurrency', '4', '--json'], { cwd: freshDir(), env: { VIDPIPE_API_KEY: KEY } });
    expect(run.code, run.stderr).toBe(0);
    expect(new Set(received.map((r) => r.body.detail.jobId)).size).toBe(40);
    expect(peakInFlight).toBeLessThanOrEqual(4);
    expect(peakInFlight).toBeGreaterThan(1);
    const doc = JSON.parse(run.stdout);
    expect(doc).toMatchObject({ jobs: 40, events: 40, concurrency: 4, byHttpStatus: { 200: 40 }, byOutcome: { processed: 40 } });
    expect(doc.latencyMs.p50).toBeGreaterThanOrEqual(20);
    expect(doc.latencyMs.max).toBeGreaterThanOrEqual(doc.latencyMs.p99);
    expect(doc.eventsPerSecond).toBeGreaterThan(0);
  });

  it('--count with rejections: the summary, then exit 5', async () => {
    answer = { status: 503, body: 'busy' };
    const run = await runCli(['simulate-complete', '--to', url, '--count', '5'], { cwd: freshDir(), env: { VIDPIPE_API_KEY: KEY } });
    expect(run.code).toBe(5);
    expect(run.stdout).toMatch(/HTTP status\s+503: 5/);
    expect(run.stderr).toContain('5 of 5 events were not accepted');
  });
});

describe('simulate-complete --print (built CLI)', () => {
  it.each([
    [['--print'], 1],
    [['--print', '--status', 'ERROR', '--error-code', '1040'], 1],
    [['--print', '--sequence'], 7],
    [['--print', '--sequence', '--duplicate', '--shuffle'], 14],
    [['--print', '--count', '3', '--status', 'NEW_WARNING'], 3],
  ])('%j prints one JSON document the listener schema accepts, and sends nothing', async (flags, events) => {
    const run = await runCli(['simulate-complete', ...flags, '--to', url], { cwd: freshDir() });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const doc = JSON.parse(run.stdout) as JobStateChangeEvent | JobStateChangeEvent[];
    const list = Array.isArray(doc) ? doc : [doc];
    expect(Array.isArray(doc)).toBe(events > 1);
    expect(list).toHaveLength(events);
    const validate = await compileListenerBodyValidator();
    for (const e of list) expect(validate(e), JSON.stringify(validate.errors)).toBe(true);
    expect(received).toHaveLength(0);
  });

  it('loads no AWS SDK module (the SDK is imported only for --via eventbridge)', async () => {
    const dir = freshDir();
    const hook = path.join(REPO_ROOT, 'test', 'fixtures', 'record-imports.mjs');
    const printLog = path.join(dir, 'print.log');
    const print = await runCli(['simulate-complete', '--print'], { cwd: dir, nodeArgs: ['--import', hook], env: { VIDPIPE_IMPORT_LOG: printLog } });
    expect(print.code, print.stderr).toBe(0);
    const printed = readFileSync(printLog, 'utf8');
    expect(printed).toContain('/simulate/simulate.js');
    expect(printed).not.toMatch(/@aws-sdk|@smithy|fastify|better-sqlite3|inquirer/);
    // Control: the same hook does see the SDK when --via eventbridge needs it (the endpoint is closed: it fails fast).
    const ebLog = path.join(dir, 'eb.log');
    await runCli(['simulate-complete', '--via', 'eventbridge', '--region', 'us-east-1', '--endpoint-url', `http://127.0.0.1:${await freePort()}`], {
      cwd: dir,
      nodeArgs: ['--import', hook],
      env: { VIDPIPE_IMPORT_LOG: ebLog, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_MAX_ATTEMPTS: '1' },
    });
    expect(readFileSync(ebLog, 'utf8')).toMatch(/@aws-sdk\/client-/);
  });
});
