/**
 * `vidpipe doctor --trace`: one synthetic job event with a unique job id, put on the default bus with the simulator's
 * custom source (PutEvents refuses `aws.*` sources to callers), then watched for where it can be observed: the
 * listener's read API (GET /api/videos/:jobId) and the dead-letter queue (peeked with a visibility timeout of 0, so
 * nothing is taken from it). Each hop seen is printed with the time since the event was sent; on timeout, the last hop
 * seen says where to look.
 */
import { randomUUID } from 'node:crypto';
import type { AwsContext } from '../aws/context.js';
import { DEFAULT_AUTH_HEADER, usesApiDestination, type VidpipeConfig } from '../config/config.js';
import { clientAuthHeaders, clientCredentials, secretsPathFor } from '../config/secrets.js';
import { buildEvent, defaultOutputs, makeJobId, systemBuildEnv } from '../events/build.js';
import type { JobStatus } from '../events/types.js';
import { resourceNames } from '../provision/names.js';
import { probe, ProbeError } from './http-probe.js';

export interface TraceHop {
  hop: string;
  status: 'seen' | 'failed' | 'not seen';
  /** Milliseconds since PutEvents was called. */
  ms?: number;
  detail: string;
}

export interface TraceReport {
  ok: boolean;
  jobId: string;
  eventId?: string;
  source: string;
  hops: TraceHop[];
  /** The last hop the event was seen at. */
  lastSeen: string;
  fix?: string;
}

export interface TraceOptions {
  config: VidpipeConfig;
  configPath: string;
  aws: AwsContext;
  /** The listener's base URL (see listenerBase). */
  listener: string;
  timeoutMs: number;
  pollMs?: number;
  processEnv?: NodeJS.ProcessEnv;
  onHop?: (hop: TraceHop) => void;
}

/** A status the rule forwards, preferring one that is not terminal: a trace job should not look finished (or notify Slack). */
export function traceStatus(statuses: readonly JobStatus[]): JobStatus {
  const quiet: JobStatus[] = ['STATUS_UPDATE', 'PROGRESSING', 'INPUT_INFORMATION', 'QUEUE_HOP', 'NEW_WARNING'];
  return quiet.find((s) => statuses.includes(s)) ?? (statuses.includes('COMPLETE') ? 'COMPLETE' : statuses[0]!);
}

export async function runTrace(options: TraceOptions): Promise<TraceReport> {
  const { config, aws } = options;
  const hops: TraceHop[] = [];
  const note = (h: TraceHop) => {
    hops.push(h);
    options.onHop?.(h);
  };
  const source = config.simulatorSource;
  const jobId = makeJobId(systemBuildEnv, Date.now());
  if (!config.allowSimulatorSource)
    return {
      ok: false,
      jobId,
      source,
      hops,
      lastSeen: 'nothing sent',
      fix: `the rule matches the trace's source "${source}" only with "allowSimulatorSource": true in vidpipe.config.json; set it, run \`vidpipe setup\`, then trace again`,
    };

  const [account, eb] = await Promise.all([aws.accountId(), aws.eventbridge()]);
  const region = aws.region ?? 'us-east-1';
  const names = resourceNames(config);
  const event = buildEvent(
    traceStatus(config.statuses),
    {
      jobId,
      account,
      region,
      userMetadata: { vidpipeTrace: 'doctor' },
      inputUri: `s3://${names.inputBucket}/vidpipe-doctor/trace.mp4`,
      outputs: defaultOutputs(names.outputBucket, 'vidpipe-doctor'),
    },
    Date.now(),
    { uuid: randomUUID },
    { progressStep: 0 },
  );
  const { putEventsBatched } = await import('../simulate/eventbridge.js');
  const started = performance.now();
  const since = () => Math.round(performance.now() - started);
  const outcome = await putEventsBatched(eb, [event], source);
  const failure = outcome.failures[0];
  if (failure) {
    note({ hop: 'PutEvents', status: 'failed', ms: since(), detail: `${failure.errorCode}: ${failure.errorMessage}` });
    return { ok: false, jobId, source, hops, lastSeen: 'nothing accepted', fix: 'the identity needs events:PutEvents on the default bus for this source (`vidpipe policy`)' };
  }
  const eventId = outcome.entryIds[0]!;
  note({ hop: 'PutEvents', status: 'seen', ms: since(), detail: `EventBridge accepted event ${eventId} (job ${jobId}, source ${source})` });

  const headers = clientAuthHeaders(clientCredentials({ env: options.processEnv ?? process.env, secretsFile: secretsPathFor(options.configPath) }), config.listener.authHeader ?? DEFAULT_AUTH_HEADER);
  const videoUrl = new URL(`${options.listener}/api/videos/${encodeURIComponent(jobId)}`);
  const queue = config.deadLetterQueue ? await deadLetterQueueUrl(aws, names.deadLetterQueue) : undefined;
  const pollMs = options.pollMs ?? 500;
  let lastListenerProblem: string | undefined;

  while (since() < options.timeoutMs) {
    try {
      const answer = await probe(videoUrl, headers);
      if (answer.status === 200) {
        note({ hop: 'listener', status: 'seen', ms: since(), detail: `stored by the listener: GET ${videoUrl.pathname} answered 200` });
        return { ok: true, jobId, eventId, source, hops, lastSeen: 'listener' };
      }
      if (answer.status === 401 || answer.status === 403) lastListenerProblem = `the listener's read API refused the configured credentials (${answer.status})`;
      else if (answer.status !== 404) lastListenerProblem = `the listener's read API answered ${answer.status}`;
    } catch (err) {
      lastListenerProblem = `the listener did not answer at ${options.listener} (${err instanceof ProbeError ? err.code : String(err)})`;
    }
    if (queue) {
      const dead = await peekDeadLetter(aws, queue, jobId);
      if (dead) {
        note({ hop: 'dead-letter queue', status: 'failed', ms: since(), detail: `EventBridge gave up and dead-lettered it: ${dead}` });
        return { ok: false, jobId, eventId, source, hops, lastSeen: 'dead-letter queue', fix: 'vidpipe dlq show <id> for the whole message; fix what ERROR_CODE names, then vidpipe dlq redrive' };
      }
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  note({
    hop: 'listener',
    status: 'not seen',
    ms: since(),
    detail: `not at the listener after ${Math.round(options.timeoutMs / 1000)} s${lastListenerProblem ? `: ${lastListenerProblem}` : ''}${queue ? ', nor in the dead-letter queue' : ''}`,
  });
  return {
    ok: false,
    jobId,
    eventId,
    source,
    hops,
    lastSeen: 'PutEvents (accepted by EventBridge)',
    fix: lastListenerProblem
      ? 'fix the listener problem above'
      : usesApiDestination(config)
        ? 'EventBridge may still be retrying: check the checks above (rule, connection, API destination, target role), the FailedInvocations alarm, and `vidpipe dlq list` later'
        : // The event queue is not peeked: every receive counts towards its redrive policy (5), so a watcher would push
          // waiting events into the DLQ. Its depth, above, says whether events are waiting.
          `the event may be waiting in the queue ${names.eventQueue}: is \`vidpipe listen --pull\` running against the listener at ${options.listener}? (the event queue backlog above shows what waits)`,
  };
}

async function deadLetterQueueUrl(aws: AwsContext, name: string): Promise<string | undefined> {
  const sqs = await aws.sqs();
  const m = await import('@aws-sdk/client-sqs');
  try {
    return (await sqs.send(new m.GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch {
    return undefined;
  }
}

/** Looks at up to 10 dead letters without taking them (visibility timeout 0) for one about this job. */
async function peekDeadLetter(aws: AwsContext, QueueUrl: string, jobId: string): Promise<string | undefined> {
  const sqs = await aws.sqs();
  const m = await import('@aws-sdk/client-sqs');
  const out = await sqs
    .send(new m.ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0, MessageAttributeNames: ['All'], WaitTimeSeconds: 0 }))
    .catch(() => undefined);
  for (const message of out?.Messages ?? []) {
    if (!message.Body?.includes(jobId)) continue;
    const a = message.MessageAttributes ?? {};
    return `${a.ERROR_CODE?.StringValue ?? 'unknown error'}: ${a.ERROR_MESSAGE?.StringValue ?? ''} (message ${message.MessageId})`;
  }
  return undefined;
}
