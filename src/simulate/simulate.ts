/**
 * `vidpipe simulate-complete`: plan the events, then print them, POST them to the listener as EventBridge would, or
 * put them on the default bus. The AWS SDK is loaded only for --via eventbridge.
 */
import type { AwsContext } from '../aws/context.js';
import { deliveryOf, loadConfig, localListenerOrigin, usesEventQueue, DEFAULT_AUTH_HEADER, DEFAULT_SIMULATOR_SOURCE, DEFAULT_LISTENER_PATH, type VidpipeConfig } from '../config/config.js';
import { clientAuthHeaders, clientCredentials, secretsPathFor } from '../config/secrets.js';
import { resolveRegion } from '../aws/region.js';
import type { AwsCliOptions } from '../cli/context.js';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { awsCall } from '../aws/errors.js';
import { ExitCode, RemoteRejectedError, UsageError, VidpipeError } from '../errors.js';
import { resourceNames } from '../provision/names.js';
import { isNotFound } from '../provision/resources/common.js';
import { PLACEHOLDER_ACCOUNT, systemBuildEnv, type BuildEnv } from '../events/build.js';
import type { JobStateChangeEvent } from '../events/types.js';
import { postEvent, type HttpAnswer, type HttpTarget } from './http.js';
import { classifyAnswer, runPool, summarizeLatency, type LatencySummary } from './load.js';
import { planSimulation, type PlannedJob, type SimulationSpec } from './plan.js';

export interface SimulateOptions extends SimulationSpec {
  via: 'http' | 'eventbridge' | 'sqs';
  /** --to: the listener URL (http only). */
  to?: URL;
  /** --queue-url (sqs only); default: the event queue `setup --delivery sqs` made, found by name. */
  queueUrl?: URL;
  /** --public: the config's public listener.url instead of the local listener. */
  publicListener?: boolean;
  concurrency: number;
  print: boolean;
  /** --source for --via eventbridge; default config.simulatorSource. Already checked not to be aws.*. */
  source?: string;
  aws: AwsCliOptions;
  configPath: string;
}

export interface SimulateDeps {
  env?: BuildEnv;
  processEnv?: NodeJS.ProcessEnv;
  /** Each answer as it arrives (single event and --sequence runs; not --count). */
  onAnswer?: (answer: SentEvent) => void;
  /** Each AWS request (for --verbose). */
  onAwsCall?: (service: string, command: string) => void;
}

export interface SentEvent {
  jobId: string;
  status: string;
  eventId: string;
  httpStatus: number;
  body: string;
  ms: number;
}

export interface LoadSummary {
  jobs: number;
  events: number;
  concurrency: number;
  byHttpStatus: Record<string, number>;
  byOutcome: Record<string, number>;
  latencyMs: LatencySummary;
  seconds: number;
  eventsPerSecond: number;
}

export type SimulateResult =
  | { mode: 'print'; document: JobStateChangeEvent | JobStateChangeEvent[] }
  | { mode: 'http'; url: string; jobIds: string[]; answers: SentEvent[]; /** The auth header's name (never its value). */ authHeader: string }
  | { mode: 'load'; url: string; summary: LoadSummary; rejected: number }
  | {
      mode: 'eventbridge';
      source: string;
      region: string | undefined;
      jobIds: string[];
      entries: { jobId: string; status: string; eventId: string }[];
      calls: number;
      warnings: string[];
    }
  | {
      mode: 'sqs';
      queueUrl: string;
      jobIds: string[];
      entries: { jobId: string; status: string; eventId: string; messageId: string }[];
      calls: number;
    };

/**
 * --to; else, with --public, listener.url from the config (the public endpoint the API destination calls); else the
 * listener on this machine, where `vidpipe listen` binds with the same settings: PORT/HOST from the environment › the
 * config's listen section › 127.0.0.1:3000. A set-up directory has a public URL, but a test event belongs to the
 * listener running here unless asked otherwise.
 */
export function resolveListenerUrl(to: URL | undefined, config: VidpipeConfig | undefined, env: NodeJS.ProcessEnv = {}, usePublic = false): URL {
  if (to) return to;
  if (usePublic) {
    if (!config?.listener.url)
      throw new UsageError('LISTENER_URL_MISSING', '--public: the config has no listener.url.', { hint: 'Set listener.url in vidpipe.config.json, or pass --to URL.' });
    return new URL(config.listener.url);
  }
  return new URL(`${localListenerOrigin(config, env)}${DEFAULT_LISTENER_PATH}`);
}

export async function simulate(options: SimulateOptions, deps: SimulateDeps = {}): Promise<SimulateResult> {
  const env = deps.env ?? systemBuildEnv;
  const processEnv = deps.processEnv ?? process.env;
  const config = await loadConfig(options.configPath);
  // One precedence for every verb (src/aws/region.ts): --region, the config's, AWS_REGION, AWS_DEFAULT_REGION, the profile's.
  const region = resolveRegion({ flag: options.aws.region, configRegion: config?.region, profile: options.aws.profile, env: processEnv })?.region;
  const setting = { region: region ?? 'us-east-1', app: config?.app, inputBucket: config?.inputBucket, outputBucket: config?.outputBucket };

  if (options.print) {
    const jobs = planSimulation(options, { ...setting, account: PLACEHOLDER_ACCOUNT }, env);
    const events = jobs.flatMap((j) => j.events);
    return { mode: 'print', document: events.length === 1 ? events[0]! : events };
  }
  if (options.via === 'eventbridge') return sendViaEventBridge(options, config, region, setting, env, deps.onAwsCall);
  if (options.via === 'sqs') return sendViaSqs(options, config, region, setting, env, deps.onAwsCall);

  const url = resolveListenerUrl(options.to, config, processEnv, options.publicListener === true);
  const secretsFile = secretsPathFor(options.configPath);
  const credentials = clientCredentials({ env: processEnv, secretsFile });
  if (!credentials.apiKey && !credentials.basicAuth)
    throw new UsageError('NO_API_KEY', `No key to authenticate to the listener: VIDPIPE_API_KEY is not set and ${secretsFile} has none.`, {
      hint: 'Start `vidpipe listen` once from this directory (it generates a key there), or set VIDPIPE_API_KEY to the key the listener accepts.',
    });
  const target: HttpTarget = { url, auth: clientAuthHeaders(credentials, config?.listener.authHeader ?? DEFAULT_AUTH_HEADER) };
  const jobs = planSimulation(options, { ...setting, account: PLACEHOLDER_ACCOUNT }, env);
  if (options.count > 1) return sendLoad(jobs, target, options.concurrency);

  const answers: SentEvent[] = [];
  for (const event of jobs[0]!.events) {
    const answer = await postEvent(target, event);
    const sent = sentEvent(event, answer);
    if (answer.status < 200 || answer.status > 299) throw rejected(url, sent, answers);
    answers.push(sent);
    deps.onAnswer?.(sent);
  }
  return { mode: 'http', url: url.href, jobIds: [jobs[0]!.jobId], answers, authHeader: Object.keys(target.auth)[0]! };
}

function sentEvent(event: JobStateChangeEvent, answer: HttpAnswer): SentEvent {
  return { jobId: event.detail.jobId, status: event.detail.status, eventId: event.id, httpStatus: answer.status, body: answer.body, ms: answer.ms };
}

function rejected(url: URL, sent: SentEvent, before: SentEvent[]): RemoteRejectedError {
  const body = sent.body.length > 2000 ? `${sent.body.slice(0, 2000)}…` : sent.body;
  const keyProblem = sent.httpStatus === 401 || sent.httpStatus === 403;
  return new RemoteRejectedError('LISTENER_REJECTED', `The listener at ${url.href} answered ${sent.httpStatus} to the ${sent.status} event of job ${sent.jobId}: ${body || '(empty body)'}`, {
    hint: keyProblem
      ? 'The key sent is not one the listener accepts. Both read VIDPIPE_API_KEY, else .vidpipe/secrets.json beside the config: run both from the same directory (or the same --config), or set the same VIDPIPE_API_KEY.'
      : undefined,
    details: { httpStatus: sent.httpStatus, body, answeredBefore: before },
  });
}

async function sendLoad(jobs: PlannedJob[], target: HttpTarget, concurrency: number): Promise<SimulateResult> {
  const latencies: number[] = [];
  const byHttpStatus: Record<string, number> = {};
  const byOutcome: Record<string, number> = {};
  const bump = (map: Record<string, number>, key: string) => (map[key] = (map[key] ?? 0) + 1);
  let rejectedCount = 0;
  const started = performance.now();
  // A job's events go in order on one worker; jobs run side by side.
  await runPool(jobs, concurrency, async (job) => {
    for (const event of job.events) {
      let answer: HttpAnswer;
      try {
        answer = await postEvent(target, event);
      } catch (err) {
        // A slow answer is one failed delivery among many; anything else (refused, unknown host) stops the run.
        if ((err as { code?: string }).code !== 'LISTENER_TIMEOUT') throw err;
        bump(byHttpStatus, 'timeout');
        rejectedCount++;
        continue;
      }
      latencies.push(answer.ms);
      bump(byHttpStatus, String(answer.status));
      bump(byOutcome, classifyAnswer(answer.status, answer.body));
      if (answer.status < 200 || answer.status > 299) rejectedCount++;
    }
  });
  const seconds = (performance.now() - started) / 1000;
  const events = jobs.reduce((n, j) => n + j.events.length, 0);
  return {
    mode: 'load',
    url: target.url.href,
    rejected: rejectedCount,
    summary: {
      jobs: jobs.length,
      events,
      concurrency,
      byHttpStatus,
      byOutcome,
      latencyMs: summarizeLatency(latencies),
      seconds: Math.round(seconds * 1000) / 1000,
      eventsPerSecond: Math.round((events / seconds) * 10) / 10,
    },
  };
}

async function sendViaEventBridge(
  options: SimulateOptions,
  config: VidpipeConfig | undefined,
  region: string | undefined,
  setting: { region: string; app?: string; inputBucket?: string; outputBucket?: string },
  env: BuildEnv,
  onCall?: (service: string, command: string) => void,
): Promise<SimulateResult> {
  const { assertCustomSource, putEventsBatched } = await import('./eventbridge.js');
  const source = options.source ?? config?.simulatorSource ?? DEFAULT_SIMULATOR_SOURCE;
  assertCustomSource(source);
  return withAwsJobs(options, region, setting, env, onCall, async (aws, jobs, events) => {
    const outcome = await putEventsBatched(await aws.eventbridge(), events, source, options.concurrency);
    if (outcome.failures.length) {
      const lines = outcome.failures.map((f) => `entry ${f.index + 1} (${f.status} of job ${f.jobId}): ${f.errorCode}: ${f.errorMessage}`);
      throw new RemoteRejectedError('PUT_EVENTS_FAILED', `PutEvents failed ${outcome.failures.length} of ${events.length} entries:\n  ${lines.join('\n  ')}`, {
        hint: outcome.failures.some((f) => f.errorCode === 'NotAuthorizedForSourceException')
          ? 'Sources starting with "aws." are reserved for AWS services; use a custom source (default vidpipe.simulator).'
          : 'InternalFailure and ThrottlingException entries were retried 3 times; other codes need the request or the permissions fixed.',
        details: { failures: outcome.failures, accepted: outcome.entryIds.filter(Boolean).length },
      });
    }
    const warnings: string[] = [];
    if (!config?.allowSimulatorSource)
      warnings.push(
        `The vidpipe rule matches source "${source}" only with "allowSimulatorSource": true in the config (then run \`vidpipe setup\`); until then these events reach no listener.`,
      );
    return {
      mode: 'eventbridge',
      source,
      region: aws.region,
      jobIds: jobs.map((j) => j.jobId),
      entries: events.map((e, i) => ({ jobId: e.detail.jobId, status: e.detail.status, eventId: outcome.entryIds[i]! })),
      calls: outcome.calls,
      warnings,
    };
  });
}

/**
 * The AWS part both senders share: a context for this run (closed after), and the simulated jobs planned with the
 * caller's real account id — the detail names it (accountId, queue and job ARNs), as MediaConvert's own events do.
 */
async function withAwsJobs<T>(
  options: SimulateOptions,
  region: string | undefined,
  setting: { region: string; app?: string; inputBucket?: string; outputBucket?: string },
  env: BuildEnv,
  onCall: ((service: string, command: string) => void) | undefined,
  run: (aws: AwsContext, jobs: ReturnType<typeof planSimulation>, events: ReturnType<typeof planSimulation>[number]['events']) => Promise<T>,
): Promise<T> {
  const { createAwsContext } = await import('../aws/context.js');
  const aws = createAwsContext({ ...options.aws, ...(region ? { region } : {}), ...(onCall ? { onCall } : {}) });
  try {
    const account = await aws.accountId();
    const jobs = planSimulation(options, { ...setting, account }, env);
    return await run(aws, jobs, jobs.flatMap((j) => j.events));
  } finally {
    aws.destroy();
  }
}

/** The event queue's URL: --queue-url, else the queue named after the app (GetQueueUrl), with what to do when it is not there. */
async function eventQueueUrl(options: SimulateOptions, config: VidpipeConfig | undefined, sqs: Pick<SQSClient, 'send'>): Promise<string> {
  if (options.queueUrl) return options.queueUrl.href;
  if (!config)
    throw new UsageError('NO_QUEUE_URL', `--via sqs needs the event queue: there is no config at ${options.configPath} to find it by name, and no --queue-url.`, {
      hint: 'Run it where `vidpipe setup --delivery sqs` ran (or pass --config), or pass --queue-url https://sqs.<region>.amazonaws.com/<account>/<app>-events.',
    });
  const QueueName = resourceNames(config).eventQueue;
  const { GetQueueUrlCommand } = await import('@aws-sdk/client-sqs');
  try {
    const out = await sqs.send(new GetQueueUrlCommand({ QueueName }));
    return out.QueueUrl!;
  } catch (err) {
    if (!isNotFound(err)) return awsCall({ action: 'sqs:GetQueueUrl', resource: QueueName }, () => Promise.reject(err));
    throw queueMissing(QueueName, config, err);
  }
}

function queueMissing(queue: string, config: VidpipeConfig | undefined, cause: unknown, explicit = false): VidpipeError {
  const wanted = !explicit && config !== undefined && usesEventQueue(config);
  return new VidpipeError('QUEUE_MISSING', `The event queue ${queue} does not exist${config && !explicit && !wanted ? ` (delivery is ${deliveryOf(config)})` : ''}.`, {
    hint: wanted ? 'Run `vidpipe setup` to create it.' : 'Check --queue-url, or run `vidpipe setup --delivery sqs` (or both) to deliver through an SQS queue.',
    exitCode: ExitCode.drift,
    cause,
  });
}

async function sendViaSqs(
  options: SimulateOptions,
  config: VidpipeConfig | undefined,
  region: string | undefined,
  setting: { region: string; app?: string; inputBucket?: string; outputBucket?: string },
  env: BuildEnv,
  onCall?: (service: string, command: string) => void,
): Promise<SimulateResult> {
  const { sendMessagesBatched } = await import('./sqs.js');
  return withAwsJobs(options, region, setting, env, onCall, async (aws, jobs, events) => {
    const sqs = await aws.sqs();
    const queueUrl = await eventQueueUrl(options, config, sqs);
    const outcome = await sendMessagesBatched(sqs, queueUrl, events, options.concurrency).catch((err: unknown) => {
      throw isNotFound((err as VidpipeError).cause ?? err) ? queueMissing(queueUrl, config, err, options.queueUrl !== undefined) : err;
    });
    if (outcome.failures.length) {
      const lines = outcome.failures.map((f) => `entry ${f.index + 1} (${f.status} of job ${f.jobId}): ${f.code}: ${f.message}`);
      throw new RemoteRejectedError('SEND_MESSAGE_FAILED', `SendMessageBatch failed ${outcome.failures.length} of ${events.length} entries:\n  ${lines.join('\n  ')}`, {
        details: { failures: outcome.failures, accepted: outcome.messageIds.filter(Boolean).length },
      });
    }
    return {
      mode: 'sqs',
      queueUrl,
      jobIds: jobs.map((j) => j.jobId),
      entries: events.map((e, i) => ({ jobId: e.detail.jobId, status: e.detail.status, eventId: e.id, messageId: outcome.messageIds[i]! })),
      calls: outcome.calls,
    };
  });
}
