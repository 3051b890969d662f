/**
 * What a developer watching `vidpipe listen` sees, one line per event (like `stripe listen`): the time, the job (short),
 * the status (coloured), the post, the progress or output count, and what became of it (stored, duplicate, ignored);
 * then, when forwarding, the app's status code and milliseconds. With --json the same facts go out as one JSON object
 * per line (NDJSON), for `jq`. Pure formatting: the transports report, this renders.
 */
import type { ChalkInstance } from 'chalk';
import type { NormalisedEvent } from '../events/normalise.js';
import type { IngestAnswer } from './core/ingest.js';
import type { ForwardResult } from './notify/forwarder.js';

export type Transport = 'http' | 'sqs';

export interface LiveEvent {
  type: 'event';
  time: string;
  via: Transport;
  eventId: string;
  jobId: string | null;
  /** The MediaConvert status the event carries (COMPLETE, STATUS_UPDATE…), when it is one. */
  status: string | null;
  postId: string | null;
  /** jobPercentComplete, when the event carries it. */
  percent: number | null;
  /** Output files listed by a COMPLETE. */
  outputs: number | null;
  outcome: IngestAnswer['status'];
  reason?: string;
}

export interface LiveForward {
  type: 'forward';
  time: string;
  eventId: string;
  jobId: string | null;
  /** The app's HTTP status, when it answered. */
  httpStatus: number | null;
  ms: number;
  state: 'sent' | 'retry' | 'failed';
  error?: string;
}

export function liveEvent(answer: IngestAnswer, event: NormalisedEvent, via: Transport, now = new Date()): LiveEvent {
  const d = event.detail;
  const outputs = d?.status === 'COMPLETE' ? (d.outputGroupDetails ?? []).reduce((n, g) => n + (g.outputDetails ?? []).reduce((m, o) => m + (o.outputFilePaths?.length ?? 0), 0), 0) : null;
  const percent = d?.jobProgress?.jobPercentComplete;
  return {
    type: 'event',
    time: now.toISOString(),
    via,
    eventId: answer.eventId,
    jobId: answer.jobId,
    status: d?.status ?? null,
    postId: typeof d?.userMetadata?.postId === 'string' ? d.userMetadata.postId : null,
    percent: typeof percent === 'number' ? percent : null,
    outputs,
    outcome: answer.status,
    ...(answer.reason ? { reason: answer.reason } : {}),
  };
}

export function liveForward(r: ForwardResult, now = new Date()): LiveForward {
  const o = r.outcome;
  return {
    type: 'forward',
    time: now.toISOString(),
    eventId: r.forward.eventId,
    jobId: r.forward.jobId,
    httpStatus: o.status ?? null,
    ms: r.ms,
    state: o.state,
    ...(o.state !== 'sent' ? { error: o.error } : {}),
  };
}

/** "1671476818694-abc123" → "…94-abc123": enough to tell jobs apart on one screen. */
function shortJob(jobId: string | null): string {
  if (!jobId) return '-';
  return jobId.length > 12 ? `…${jobId.slice(-11)}` : jobId;
}

function clock(iso: string): string {
  return iso.slice(11, 19);
}

export function renderLiveEvent(e: LiveEvent, c: ChalkInstance): string {
  const colour = e.status === 'COMPLETE' ? c.green : e.status === 'ERROR' ? c.red : e.status === 'CANCELED' ? c.yellow : c.cyan;
  const what = e.outputs !== null ? `${e.outputs} output${e.outputs === 1 ? '' : 's'}` : e.percent !== null ? `${e.percent}%` : '';
  const outcome = e.outcome === 'processed' ? '' : c.dim(` (${e.outcome})`);
  return [
    c.dim(clock(e.time)),
    `job ${shortJob(e.jobId).padEnd(12)}`,
    colour((e.status ?? 'other').padEnd(17)),
    `post ${(e.postId ?? '-').padEnd(6)}`,
    what.padEnd(10),
    e.via === 'sqs' ? c.dim('sqs') : '',
  ]
    .join('  ')
    .trimEnd()
    .concat(outcome);
}

export function renderLiveForward(f: LiveForward, c: ChalkInstance): string {
  const answer = f.httpStatus === null ? (f.error ?? 'no answer') : String(f.httpStatus);
  const colour = f.state === 'sent' ? c.green : f.state === 'retry' ? c.yellow : c.red;
  const then = f.state === 'retry' ? ' — will retry' : f.state === 'failed' ? ` — failed${f.error ? `: ${f.error}` : ''}` : '';
  return `${c.dim(clock(f.time))}  ${c.dim('  ↳ app')} ${colour(answer)} ${c.dim(`${f.ms} ms`)}  job ${shortJob(f.jobId)}${then}`;
}
