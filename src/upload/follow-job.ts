/**
 * Follows a MediaConvert job to COMPLETE, ERROR or CANCELED for `upload --wait`. The listener's read API
 * (GET /api/videos/:jobId, which EventBridge keeps up to date) is asked first when one is configured and answers;
 * otherwise, or while it does not know the job yet, MediaConvert GetJob is polled. Polls back off from 1 s to 15 s.
 */
import { GetJobCommand, type MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import { translateAwsError } from '../aws/errors.js';
import { InterruptedError, RemoteRejectedError } from '../errors.js';
import { sleep as timer } from '../util/retry.js';
import { TERMINAL_STATUSES } from '../events/types.js';

export type JobStatusName = 'SUBMITTED' | 'PROGRESSING' | 'COMPLETE' | 'ERROR' | 'CANCELED';
/** GetJob's statuses are strings; the terminal ones are the events' terminal statuses. */
const TERMINAL_JOB_STATUSES: ReadonlySet<string> = TERMINAL_STATUSES;

export interface JobSnapshot {
  jobId: string;
  status: JobStatusName | (string & {});
  phase?: string;
  percent?: number;
  outputs?: string[];
  errorCode?: string;
  errorMessage?: string;
  source: 'listener' | 'mediaconvert';
}

export interface ListenerSource {
  /** The listener's base URL, e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  /** The auth header(s) clients send (API key header or Basic). Never logged. */
  headers: Record<string, string>;
  /** Which credentials those are, for messages: "the API key in .vidpipe/secrets.json (header x-api-key)". Never the key. */
  credentials?: string;
}

export interface FollowJobOptions {
  jobId: string;
  mediaconvert: () => Promise<Pick<MediaConvertClient, 'send'>>;
  listener?: ListenerSource;
  /** What the job writes, for a COMPLETE seen through GetJob (which does not list output paths). */
  expectedOutputs?: string[];
  onUpdate?: (state: JobSnapshot) => void;
  /** After every poll, changed or not (a live display's elapsed time). */
  onPoll?: (state: JobSnapshot) => void;
  /** Told once when the listener cannot be used, with why. */
  onListenerUnavailable?: (reason: string) => void;
  signal?: AbortSignal;
  initialIntervalMs?: number;
  maxIntervalMs?: number;
  mediaconvertEndpoint?: string;
}

/** The listener's GET /api/videos/:jobId body: { video: Job, events, notifications } (src/listener/core/job-state.ts). */
interface ListenerVideo {
  jobId?: string;
  status?: string;
  progress?: number | null;
  currentPhase?: string | null;
  outputs?: { uri?: string }[] | null;
  errorCode?: string | number | null;
  errorMessage?: string | null;
}

/** undefined: the listener answered but does not know the job yet. Throws ListenerUnusable when it cannot be used. */
async function pollListener(listener: ListenerSource, jobId: string): Promise<JobSnapshot | undefined> {
  const url = new URL(`/api/videos/${encodeURIComponent(jobId)}`, listener.baseUrl);
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json', ...listener.headers }, signal: AbortSignal.timeout(5000) });
  } catch (err) {
    throw new ListenerUnusable(`${listener.baseUrl} does not answer (${(err as Error).cause ? String(((err as Error).cause as Error).message) : (err as Error).message})`);
  }
  if (res.status === 404) return undefined;
  if (res.status === 401 || res.status === 403)
    // Not a reason to fall back quietly: the user asked for this listener, and its answer says the setup is wrong.
    throw new RemoteRejectedError('LISTENER_REFUSED_CREDENTIALS', `The listener at ${listener.baseUrl} refused ${listener.credentials ?? "vidpipe's credentials"} (HTTP ${res.status}).`, {
      hint:
        'Use the key the listener accepts: run this from the folder whose .vidpipe/secrets.json `vidpipe listen` reads, or set VIDPIPE_API_KEY (or VIDPIPE_BASIC_AUTH) to what the listener accepts. ' +
        'Or follow the job through MediaConvert alone by leaving out --wait.',
    });
  if (!res.ok) throw new ListenerUnusable(`${listener.baseUrl} answered HTTP ${res.status}`);
  const body = (await res.json()) as { video?: ListenerVideo };
  const v = body.video;
  if (!v?.status) throw new ListenerUnusable(`${listener.baseUrl} answered without a video`);
  return {
    jobId,
    status: v.status,
    ...(v.currentPhase ? { phase: v.currentPhase } : {}),
    ...(typeof v.progress === 'number' ? { percent: v.progress } : {}),
    ...(v.outputs ? { outputs: v.outputs.map((o) => o.uri).filter((u): u is string => typeof u === 'string') } : {}),
    ...(v.errorCode != null ? { errorCode: String(v.errorCode) } : {}),
    ...(v.errorMessage ? { errorMessage: v.errorMessage } : {}),
    source: 'listener',
  };
}

class ListenerUnusable extends Error {}

async function pollMediaConvert(options: FollowJobOptions): Promise<JobSnapshot> {
  const mc = await options.mediaconvert();
  let job;
  try {
    job = (await mc.send(new GetJobCommand({ Id: options.jobId }))).Job;
  } catch (err) {
    throw translateAwsError(err, { action: 'mediaconvert:GetJob', resource: `job ${options.jobId}`, ...(options.mediaconvertEndpoint ? { endpoint: options.mediaconvertEndpoint } : {}) });
  }
  const status = job?.Status ?? 'SUBMITTED';
  return {
    jobId: options.jobId,
    status,
    // A finished job keeps the phase it was last in; it means nothing then.
    ...(job?.CurrentPhase && !TERMINAL_JOB_STATUSES.has(status) ? { phase: job.CurrentPhase } : {}),
    ...(typeof job?.JobPercentComplete === 'number' ? { percent: job.JobPercentComplete } : status === 'COMPLETE' ? { percent: 100 } : {}),
    ...(status === 'COMPLETE' && options.expectedOutputs ? { outputs: options.expectedOutputs } : {}),
    ...(job?.ErrorCode != null ? { errorCode: String(job.ErrorCode) } : {}),
    ...(job?.ErrorMessage ? { errorMessage: job.ErrorMessage } : {}),
    source: 'mediaconvert',
  };
}

/** The shared timer; Ctrl-C (the signal) becomes an InterruptedError: the job keeps running in MediaConvert. */
async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await timer(ms, signal);
  } catch {
    throw new InterruptedError('Stopped waiting for the job; it keeps running in MediaConvert.');
  }
}

/** Resolves with the terminal snapshot; each change is reported through onUpdate. */
export async function followJob(options: FollowJobOptions): Promise<JobSnapshot> {
  let interval = options.initialIntervalMs ?? 1000;
  const max = options.maxIntervalMs ?? 15_000;
  let listener = options.listener;
  let last = '';
  for (;;) {
    let state: JobSnapshot | undefined;
    if (listener) {
      try {
        state = await pollListener(listener, options.jobId);
      } catch (err) {
        if (!(err instanceof ListenerUnusable)) throw err;
        options.onListenerUnavailable?.(err.message);
        listener = undefined;
      }
    }
    state ??= await pollMediaConvert(options);
    const key = `${state.status}|${state.phase ?? ''}|${state.percent ?? ''}`;
    if (key !== last) {
      last = key;
      options.onUpdate?.(state);
    }
    options.onPoll?.(state);
    if (TERMINAL_JOB_STATUSES.has(state.status)) return state;
    await sleep(interval, options.signal);
    interval = Math.min(max, Math.round(interval * 1.5));
  }
}
