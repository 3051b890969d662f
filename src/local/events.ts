/**
 * The events a local job emits, built with the shared event model (src/events/build.ts) and filled with what ffmpeg
 * and ffprobe really saw, then POSTed to the listener exactly as an EventBridge API destination would
 * (src/simulate/http.ts: same headers, the connection's auth header, a 5 s timeout) and retried the way EventBridge
 * retries (429, 5xx, timeouts; aws-facts §1.3). Events of one job are sent in order.
 */
import { buildEvent, systemBuildEnv, type JobIdentity } from '../events/build.js';
import type { InputDetail, JobStateChangeEvent, JobStatus, OutputGroupDetail } from '../events/types.js';
import { postEvent } from '../simulate/http.js';

export interface EventTarget {
  url: URL;
  headers: Record<string, string>;
}

export interface LocalJobRef {
  id: string;
  account: string;
  region: string;
  queue: string;
  userMetadata: Record<string, string>;
  inputUri: string;
}

export type EventFields =
  | { status: 'PROGRESSING' | 'CANCELED' }
  | { status: 'INPUT_INFORMATION'; inputDetails: InputDetail[] }
  | { status: 'STATUS_UPDATE'; framesDecoded: number; phase: 'PROBING' | 'TRANSCODING' | 'UPLOADING'; probing: number; transcoding: number; uploading: number; job: number }
  | { status: 'COMPLETE'; outputGroupDetails: OutputGroupDetail[] }
  | { status: 'ERROR'; errorCode: number; errorMessage: string };

function phaseStatus(percent: number, current: boolean): string {
  if (percent >= 100) return 'COMPLETE';
  return current || percent > 0 ? 'PROGRESSING' : 'PENDING';
}

export function localEvent(job: LocalJobRef, fields: EventFields, at = Date.now()): JobStateChangeEvent {
  const identity: JobIdentity = {
    jobId: job.id,
    account: job.account,
    region: job.region,
    queue: job.queue,
    userMetadata: job.userMetadata,
    inputUri: job.inputUri,
    outputs: { mp4: [] },
  };
  const event = buildEvent(fields.status as JobStatus, identity, at, systemBuildEnv, fields.status === 'ERROR' ? { errorCode: fields.errorCode, errorMessage: fields.errorMessage } : {});
  const d = event.detail;
  switch (fields.status) {
    case 'INPUT_INFORMATION':
      d.inputDetails = fields.inputDetails;
      break;
    case 'STATUS_UPDATE': {
      const phase = (name: string, percent: number) => ({ status: phaseStatus(percent, fields.phase === name), percentComplete: Math.round(percent) });
      d.framesDecoded = fields.framesDecoded;
      d.jobProgress = {
        phaseProgress: { PROBING: phase('PROBING', fields.probing), TRANSCODING: phase('TRANSCODING', fields.transcoding), UPLOADING: phase('UPLOADING', fields.uploading) },
        jobPercentComplete: Math.round(fields.job),
        currentPhase: fields.phase,
        retryCount: 0,
      };
      break;
    }
    case 'COMPLETE':
      d.outputGroupDetails = fields.outputGroupDetails;
      break;
    default:
      break;
  }
  return event;
}

export type EventLog = (line: { level: 'info' | 'warn' | 'error'; msg: string; [k: string]: unknown }) => void;

const RETRY_DELAYS_MS = [200, 500, 1_000, 2_000, 4_000];

/** Posts events in order per job; never throws (a lost event is logged, as EventBridge would dead-letter it). */
export class EventSender {
  private chains = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(
    private readonly target: () => EventTarget | undefined,
    private readonly log: EventLog,
    private readonly onEvent?: (event: JobStateChangeEvent, answer: { status: number; body: string } | undefined) => void,
  ) {}

  send(event: JobStateChangeEvent): Promise<void> {
    const jobId = event.detail.jobId;
    const next = (this.chains.get(jobId) ?? Promise.resolve()).then(() => this.deliver(event));
    this.chains.set(jobId, next);
    void next.then(() => {
      if (this.chains.get(jobId) === next) this.chains.delete(jobId);
    });
    return next;
  }

  /** Waits for every event queued so far. */
  async flush(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  stop(): void {
    this.stopped = true;
  }

  private async deliver(event: JobStateChangeEvent): Promise<void> {
    const target = this.target();
    if (!target) {
      this.onEvent?.(event, undefined);
      return;
    }
    for (let attempt = 0; ; attempt++) {
      let status = 0;
      let body = '';
      try {
        const answer = await postEvent({ url: target.url, auth: target.headers }, event);
        status = answer.status;
        body = answer.body;
      } catch (err) {
        body = (err as Error).message;
      }
      if (status >= 200 && status < 300) {
        this.onEvent?.(event, { status, body });
        return;
      }
      const retryable = status === 0 || status === 401 || status === 409 || status === 429 || status >= 500;
      if (!retryable || attempt >= RETRY_DELAYS_MS.length || this.stopped) {
        this.log({ level: 'error', msg: 'event not delivered to the listener', jobId: event.detail.jobId, status: event.detail.status, answer: status || undefined, reason: body.slice(0, 300) });
        this.onEvent?.(event, { status, body });
        return;
      }
      await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[attempt]));
    }
  }
}
