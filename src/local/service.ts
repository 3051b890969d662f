/**
 * `vidpipe local` as a service: the listener, the local MediaConvert API, the job runner and the storage, started
 * and stopped as one. The CLI verb, the tests and the benchmark start it through startLocal().
 *
 * Layout, beside vidpipe.config.json (or in the current folder):
 *   .vidpipe/local/runtime.json   where the running instance listens (read by `vidpipe upload --local`); removed on stop
 *   .vidpipe/local/jobs.json      the runner's jobs (MediaConvert's GetJob shape)
 *   .vidpipe/local/vidpipe.db     the listener's database
 *   .vidpipe/local/storage/       objects: storage/<bucket>/<key> (unless --storage names another place)
 *   .vidpipe/local/work/<job id>/ a running job's staging folder, removed when it ends
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_SIMULATOR_SOURCE, defaultConfig, loadConfig, type VidpipeConfig } from '../config/config.js';
import { secretsPathFor } from '../config/secrets.js';
import { UsageError } from '../errors.js';
import type { JobStateChangeEvent } from '../events/types.js';
import { startApi } from './api.js';
import { EventSender, type EventTarget } from './events.js';
import type { FfmpegBinaries } from './ffmpeg.js';
import { JobList } from './jobs.js';
import { Runner } from './runner.js';
import { startLocalListener, type LocalListener } from './start-listener.js';
import { openStorage, type Storage } from './storage.js';

/** The account id local ARNs carry (no AWS account is involved). */
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_APP = 'vidpipe-local';
export const DEFAULT_REGION = 'us-east-1';

export function localStateDir(configPath: string): string {
  return path.join(path.dirname(configPath), '.vidpipe', 'local');
}

/** The config `vidpipe local` and `upload --local` use: the project's, else defaults for app "vidpipe-local". */
export async function localConfig(configPath: string): Promise<VidpipeConfig> {
  return (await loadConfig(configPath)) ?? defaultConfig(LOCAL_APP);
}

export interface Runtime {
  pid: number;
  startedAt: string;
  mediaconvertEndpoint: string;
  listenerUrl: string;
  storage: { kind: 'dir' | 's3'; location: string };
  app: string;
  inputBucket: string;
  outputBucket: string;
  region: string;
  account: string;
  templates: string[];
}

export function readRuntime(stateDir: string): Runtime | undefined {
  const file = path.join(stateDir, 'runtime.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Runtime;
  } catch {
    return undefined;
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LocalOptions {
  configPath: string;
  ffmpeg: FfmpegBinaries;
  port: number;
  host: string;
  mediaconvertPort: number;
  /** A directory, file:// URL or http(s):// S3 endpoint; default .vidpipe/local/storage. */
  storage?: string;
  /** The listener's database; default .vidpipe/local/vidpipe.db. */
  database?: string;
  concurrency: number;
  preset?: string;
  statusIntervalMs: number;
  env?: NodeJS.ProcessEnv;
  /** pino level for the listener, or 'silent'. */
  listenerLogLevel: string;
  listenerLogStream?: NodeJS.WritableStream;
  /** Relay every event to the user's app (`--forward-to`). */
  forwardTo?: string;
  log: (line: { level: 'info' | 'warn' | 'error'; msg: string; [k: string]: unknown }) => void;
  /** Each event after the listener answered (tests, the benchmark). */
  onEvent?: (event: JobStateChangeEvent, answer: { status: number; body: string } | undefined) => void;
}

export interface LocalService {
  config: VidpipeConfig;
  runtime: Runtime;
  stateDir: string;
  storage: Storage;
  listener: LocalListener;
  runner: Runner;
  jobs: JobList;
  database: string;
  recovered: { failed: string[]; resumed: string[] };
  events: EventSender;
  close(): Promise<void>;
}

export async function startLocal(o: LocalOptions): Promise<LocalService> {
  const env = o.env ?? process.env;
  const config = await localConfig(o.configPath);
  const region = config.region ?? env.AWS_REGION ?? DEFAULT_REGION;
  const stateDir = localStateDir(o.configPath);
  mkdirSync(stateDir, { recursive: true });
  const previous = readRuntime(stateDir);
  if (previous && previous.pid !== process.pid && processAlive(previous.pid))
    throw new UsageError('LOCAL_ALREADY_RUNNING', `vidpipe local is already running here (pid ${previous.pid}, listener ${previous.listenerUrl}).`, {
      hint: 'Use that one, or stop it first (Ctrl-C in its terminal).',
    });
  const storage = openStorage(o.storage, { dir: path.join(stateDir, 'storage'), region, env });
  try {
    await storage.ensureBuckets([config.inputBucket, config.outputBucket]);
  } catch (err) {
    throw new UsageError('STORAGE_UNAVAILABLE', `Cannot use the storage at ${storage.location}: ${(err as Error).message}`, { hint: 'Check --storage (a directory, or the URL of a running S3 endpoint such as moto).' });
  }
  const database = o.database ?? path.join(stateDir, 'vidpipe.db');
  const jobs = new JobList(path.join(stateDir, 'jobs.json'));
  let target: EventTarget | undefined;
  const events = new EventSender(() => target, o.log, o.onEvent);
  const runner = new Runner({
    ffmpeg: o.ffmpeg,
    storage,
    jobs,
    workRoot: path.join(stateDir, 'work'),
    events,
    account: LOCAL_ACCOUNT,
    region,
    concurrency: o.concurrency,
    ...(o.preset ? { preset: o.preset } : {}),
    statusIntervalMs: o.statusIntervalMs,
    log: o.log,
  });
  const listener = await startLocalListener({
    port: o.port,
    host: o.host,
    database,
    secretsFile: secretsPathFor(o.configPath),
    authHeader: config.listener.authHeader,
    processedSources: [config.simulatorSource ?? DEFAULT_SIMULATOR_SOURCE],
    env,
    logLevel: o.listenerLogLevel,
    ...(o.listenerLogStream ? { logStream: o.listenerLogStream } : {}),
    ...(o.forwardTo ? { forwardTo: o.forwardTo } : {}),
    ...(storage.kind === 'dir' ? { storageDir: storage.location } : {}),
  });
  target = { url: listener.ingestUrl, headers: listener.clientHeaders };
  let api;
  try {
    api = await startApi({ jobs, runner, storage, app: config.app, outputBucket: config.outputBucket, account: LOCAL_ACCOUNT, region, host: o.host, port: o.mediaconvertPort });
  } catch (err) {
    await listener.close();
    throw err;
  }
  // Jobs left over by a previous run: only now, once their events can reach the listener.
  const recovered = await runner.recover();
  const runtime: Runtime = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    mediaconvertEndpoint: api.endpoint,
    listenerUrl: listener.url,
    storage: { kind: storage.kind, location: storage.location },
    app: config.app,
    inputBucket: config.inputBucket,
    outputBucket: config.outputBucket,
    region,
    account: LOCAL_ACCOUNT,
    templates: config.templates,
  };
  const runtimeFile = path.join(stateDir, 'runtime.json');
  writeFileSync(`${runtimeFile}.tmp`, `${JSON.stringify(runtime, null, 2)}\n`);
  renameSync(`${runtimeFile}.tmp`, runtimeFile);

  let closing: Promise<void> | undefined;
  return {
    config,
    runtime,
    stateDir,
    storage,
    listener,
    runner,
    jobs,
    database,
    recovered,
    events,
    close() {
      closing ??= (async () => {
        await runner.stop();
        await api.close();
        events.stop();
        await events.flush();
        await listener.close();
        storage.close();
        const current = readRuntime(stateDir);
        if (current?.pid === process.pid) rmSync(runtimeFile, { force: true });
      })();
      return closing;
    },
  };
}
