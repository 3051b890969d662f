/**
 * A real AWS emulator for integration tests: `moto_server` (moto[server] 5.x) on a free loopback port, one per test
 * file. Found via MOTO_SERVER (a path to the executable) or on PATH. Without it the suite skips with a notice naming
 * `pip install "moto[server]"`; under CI (CI=true) a missing moto fails instead.
 *
 *   const moto = await startMoto();            // in beforeAll
 *   moto.env                                  // AWS_ENDPOINT_URL, dummy credentials, region us-east-1
 *   await moto.reset(); await moto.stop();
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const MOTO_REGION = 'us-east-1';
export const MOTO_ACCOUNT = '123456789012';

export function findMoto(): string | undefined {
  const explicit = process.env.MOTO_SERVER;
  if (explicit) return existsSync(explicit) ? explicit : undefined;
  const which = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' });
  const found = which.stdout.trim();
  return which.status === 0 && found ? found : undefined;
}

/** true when the moto suites can run; false (with a notice) when they must skip; throws under CI. */
export function motoAvailable(): boolean {
  if (findMoto()) return true;
  const notice = 'moto_server not found (set MOTO_SERVER or put it on PATH): pip install "moto[server]"';
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI: ${notice}`);
  console.warn(`[skip] ${notice}`);
  return false;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface Moto {
  endpoint: string;
  port: number;
  /** Environment for the SDK or a child vidpipe: endpoint, dummy credentials, region. */
  env: Record<string, string>;
  /** The file every request is appended to when started with { record: true }. */
  recordFile?: string;
  /** Requests recorded so far (method + path + body's Action/X-Amz-Target), when recording. */
  recordedRequests(): RecordedRequest[];
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export type RecordedRequest = { method: string; path: string; target?: string; action?: string; host?: string };

/**
 * moto's recorder file: one JSON object per request, appended by whichever server thread handles it. Records are not
 * appended atomically: moto writes the JSON and its "\n" in two writes (moto 5.2, moto_api/_internal/recorder/models.py),
 * and one longer than Python's 8 KiB file buffer (a 10-entry PutEvents) goes out at once while its "\n" waits — so
 * under concurrent requests another record can land in between, two records on one line. Each record begins with
 * `{"headers": ` (json.dumps keeps insertion order), and inside a JSON string a quote is always escaped, so `}{"headers": `
 * occurs only between two records: split there too.
 */
export function parseRecording(text: string): RecordedRequest[] {
  return text
    .split('\n')
    .flatMap((line) => line.split(/(?<=\})(?=\{"headers": )/))
    .filter((record) => record.trim())
    .map((record) => {
      const r = JSON.parse(record) as { method: string; path?: string; url?: string; headers?: Record<string, string>; body?: string; body_encoded?: boolean };
      const headers = Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
      // moto's recorder stores byte bodies base64-encoded (body_encoded: true).
      const raw = typeof r.body === 'string' ? r.body : '';
      const body = r.body_encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
      const action = /(?:^|&)Action=([^&]+)/.exec(body)?.[1];
      // moto records the full URL; keep the path (and query) only.
      const where = r.path ?? r.url ?? '';
      const pathOnly = /^https?:\/\//.test(where) ? where.replace(/^https?:\/\/[^/]+/, '') : where;
      return { method: r.method, path: pathOnly, target: headers['x-amz-target'], action, host: headers.host };
    })
    .filter((r) => !r.path.startsWith('/moto-api'));
}

export async function startMoto(options: { record?: boolean; extraEnv?: Record<string, string> } = {}): Promise<Moto> {
  const bin = findMoto();
  if (!bin) throw new Error('moto_server not found: pip install "moto[server]"');
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const recordFile = options.record ? path.join(mkdtempSync(path.join(tmpdir(), 'vidpipe-moto-')), 'record.jsonl') : undefined;
  const child: ChildProcess = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      ...(recordFile ? { MOTO_ENABLE_RECORDING: 'true', MOTO_RECORDER_FILEPATH: recordFile } : {}),
      ...options.extraEnv,
    },
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode}): ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      if (res.status < 500) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not start on ${endpoint} within 30 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const env = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: MOTO_REGION,
    AWS_DEFAULT_REGION: MOTO_REGION,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  return {
    endpoint,
    port,
    env,
    ...(recordFile ? { recordFile } : {}),
    recordedRequests() {
      if (!recordFile || !existsSync(recordFile)) return [];
      return parseRecording(readFileSync(recordFile, 'utf8'));
    },
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
