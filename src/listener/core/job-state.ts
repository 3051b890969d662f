/**
 * The job a stream of MediaConvert events describes, as a pure fold: mergeJobEvent(job, event) → job. Events arrive
 * late, out of order and more than once (EventBridge delivers at least once), so every field is merged with a rule
 * that does not depend on arrival order: the final state is a function of the SET of events.
 *
 * - status: terminal (COMPLETE/ERROR/CANCELED) beats non-terminal. MediaConvert never moves a job out of a terminal
 *   state, so among terminal events the FIRST one wins — by detail.timestamp, then a fixed status rank, then event id
 *   — and a later contradicting one (an ERROR after COMPLETE) changes nothing but is kept as an anomaly. Among
 *   non-terminal events the newest wins (timestamp, rank, event id). So a late PROGRESSING never reopens a job.
 * - outputs come from the winning COMPLETE, the error from the winning ERROR.
 * - progress is the highest percentage seen (100 once any COMPLETE is seen), so a late PROGRESSING never lowers it;
 *   the current phase is that of the newest STATUS_UPDATE while the job runs, and null once it is terminal (a finished
 *   job has no phase in progress; a terminal status is never undone, so this too depends only on the set of events).
 * - input details: newest INPUT_INFORMATION; queue: newest event naming one; warnings: the union.
 */
import { TERMINAL_STATUSES, UNTYPED_OUTPUT_GROUP, type JobStatus, type JobStateChangeDetail } from '../../events/types.js';
import { canonicalJson } from '../../util/canonical-json.js';

/** MediaConvert's job states (an event status like STATUS_UPDATE means the job is PROGRESSING). */
export type JobState = 'PROGRESSING' | 'COMPLETE' | 'ERROR' | 'CANCELED';

export type OutputKind = 'video' | 'thumbnail' | 'playlist' | 'rendition' | 'file';

export interface JobOutput {
  /** The output group type: FILE_GROUP, HLS_GROUP, DASH_ISO_GROUP, CMAF_GROUP… */
  group: string;
  kind: OutputKind;
  uri: string;
  durationMs?: number;
  width?: number;
  height?: number;
}

export interface TerminalEvent {
  eventId: string;
  status: JobStatus;
  at: number;
}

export interface JobAnomaly extends TerminalEvent {
  reason: string;
}

export interface JobWarningEntry {
  code: string;
  count?: number;
  message?: string;
}

export interface Job {
  jobId: string;
  status: JobState;
  /** detail.timestamp of the event that set the status. */
  statusAt: number;
  /** The event status that set it (e.g. STATUS_UPDATE for a PROGRESSING job): breaks timestamp ties. */
  statusEvent: JobStatus;
  /** The id of the event that set it (the last tie-break); null for jobs recorded before vidpipe kept it. */
  statusEventId: string | null;
  /** Every distinct terminal event seen (COMPLETE/ERROR/CANCELED), sorted: the winner and any contradiction. */
  terminalEvents: TerminalEvent[];
  /** Terminal events whose status contradicts the job's final state (derived from terminalEvents). */
  anomalies: JobAnomaly[];
  progress: number | null;
  currentPhase: string | null;
  phaseAt: number | null;
  inputUri: string | null;
  inputDetails: unknown[] | null;
  inputAt: number | null;
  outputs: JobOutput[] | null;
  durationMs: number | null;
  width: number | null;
  height: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  warnings: JobWarningEntry[];
  queue: string | null;
  queueAt: number | null;
  postId: string | null;
  userMetadata: Record<string, string>;
  firstEventAt: number;
  lastEventAt: number;
  eventCount: number;
}

// Tie-break among events with the same timestamp: later in a job's life wins.
const STATUS_RANK: Record<JobStatus, number> = {
  QUEUE_HOP: 0,
  PROGRESSING: 1,
  INPUT_INFORMATION: 2,
  NEW_WARNING: 3,
  STATUS_UPDATE: 4,
  CANCELED: 5,
  ERROR: 6,
  COMPLETE: 7,
};

function jobStateOf(status: JobStatus): JobState {
  return TERMINAL_STATUSES.has(status) ? (status as JobState) : 'PROGRESSING';
}

type Key = readonly (number | string)[];

/**
 * The larger key wins. Terminal beats non-terminal; among terminal events the earliest timestamp (negated), the higher
 * rank, then the smaller event id win; among the others the newest timestamp, the higher rank, the larger event id.
 */
function statusKey(status: JobStatus, at: number, eventId: string): Key {
  if (TERMINAL_STATUSES.has(status)) return [1, -at, STATUS_RANK[status], invert(eventId)];
  return [0, at, STATUS_RANK[status], eventId];
}

/** Orders strings in reverse, so "smaller id wins" reads as "larger key wins". */
function invert(id: string): string {
  let out = '';
  for (let i = 0; i < id.length; i++) out += String.fromCharCode(0xffff - id.charCodeAt(i));
  return out + '\uffff';
}

function greater(a: Key, b: Key): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] ?? 0) > (b[i] ?? 0);
  return false;
}

function compareTerminal(a: TerminalEvent, b: TerminalEvent): number {
  return a.at - b.at || STATUS_RANK[b.status] - STATUS_RANK[a.status] || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);
}

/** The terminal events that contradict the winner: the job's anomalies. */
export function anomaliesOf(job: Pick<Job, 'status' | 'terminalEvents'>): JobAnomaly[] {
  return job.terminalEvents
    .filter((t) => t.status !== job.status)
    .map((t) => ({ ...t, reason: `${t.status} received for a job already ${job.status}: MediaConvert does not leave a terminal state, so the first one stands` }));
}

/** Newer wins; on a tie the larger canonical value wins, so the result does not depend on arrival order. */
function newer(at: number, value: string, currentAt: number | null, current: string | null): boolean {
  if (currentAt === null || at > currentAt) return true;
  return at === currentAt && value > (current ?? '');
}

/**
 * Folds one event into the job. `eventId` breaks the last ties (two terminal events with the same timestamp and
 * status rank); without it (older callers, unit tests) the empty id is used.
 */
export function mergeJobEvent(job: Job | undefined, detail: JobStateChangeDetail, at: number, eventId = ''): Job {
  const next: Job = job
    ? { ...job, warnings: [...job.warnings], userMetadata: { ...job.userMetadata }, terminalEvents: [...job.terminalEvents] }
    : {
        jobId: detail.jobId,
        status: jobStateOf(detail.status),
        statusAt: at,
        statusEvent: detail.status,
        statusEventId: eventId,
        terminalEvents: [],
        anomalies: [],
        progress: null,
        currentPhase: null,
        phaseAt: null,
        inputUri: null,
        inputDetails: null,
        inputAt: null,
        outputs: null,
        durationMs: null,
        width: null,
        height: null,
        errorCode: null,
        errorMessage: null,
        warnings: [],
        queue: null,
        queueAt: null,
        postId: null,
        userMetadata: {},
        firstEventAt: at,
        lastEventAt: at,
        eventCount: 0,
      };
  next.eventCount += 1;
  next.firstEventAt = Math.min(next.firstEventAt, at);
  next.lastEventAt = Math.max(next.lastEventAt, at);

  if (TERMINAL_STATUSES.has(detail.status)) {
    // A job recorded before terminal events were kept: its winner is the one it has.
    if (next.terminalEvents.length === 0 && job && TERMINAL_STATUSES.has(job.statusEvent))
      next.terminalEvents.push({ eventId: job.statusEventId ?? '', status: job.statusEvent, at: job.statusAt });
    if (!next.terminalEvents.some((t) => t.eventId === eventId && t.status === detail.status && t.at === at)) {
      next.terminalEvents.push({ eventId, status: detail.status, at });
      next.terminalEvents.sort(compareTerminal);
    }
  }

  if (!job || greater(statusKey(detail.status, at, eventId), statusKey(next.statusEvent, next.statusAt, next.statusEventId ?? ''))) {
    next.status = jobStateOf(detail.status);
    next.statusAt = at;
    next.statusEvent = detail.status;
    next.statusEventId = eventId;
    next.outputs = null;
    next.durationMs = next.width = next.height = null;
    next.errorCode = next.errorMessage = null;
    if (detail.status === 'COMPLETE') Object.assign(next, summariseOutputs(detail));
    if (detail.status === 'ERROR') {
      next.errorCode = detail.errorCode === undefined ? null : String(detail.errorCode);
      next.errorMessage = detail.errorMessage ?? null;
    }
  }

  if (detail.status === 'COMPLETE') next.progress = 100;
  const percent = detail.jobProgress?.jobPercentComplete;
  if (typeof percent === 'number') next.progress = Math.max(next.progress ?? 0, percent);
  const phase = detail.jobProgress?.currentPhase;
  if (TERMINAL_STATUSES.has(next.statusEvent)) {
    next.currentPhase = null;
    next.phaseAt = null;
  } else if (detail.status === 'STATUS_UPDATE' && typeof phase === 'string' && newer(at, phase, next.phaseAt, next.currentPhase)) {
    next.currentPhase = phase;
    next.phaseAt = at;
  }

  if (detail.status === 'INPUT_INFORMATION' && Array.isArray(detail.inputDetails)) {
    const text = canonicalJson(detail.inputDetails);
    if (newer(at, text, next.inputAt, next.inputDetails && canonicalJson(next.inputDetails))) {
      next.inputDetails = detail.inputDetails;
      next.inputAt = at;
      const uri = detail.inputDetails.find((d) => typeof d.uri === 'string')?.uri;
      next.inputUri = uri ?? null;
    }
  }

  if (typeof detail.queue === 'string' && newer(at, detail.queue, next.queueAt, next.queue)) {
    next.queue = detail.queue;
    next.queueAt = at;
  }

  const warnings: JobWarningEntry[] = [];
  for (const w of detail.warnings ?? []) warnings.push({ code: String(w.code), ...(typeof w.count === 'number' ? { count: w.count } : {}) });
  if (detail.status === 'NEW_WARNING' && detail.warningCode !== undefined)
    warnings.push({ code: String(detail.warningCode), ...(detail.warningMessage !== undefined ? { message: detail.warningMessage } : {}) });
  if (warnings.length) next.warnings = unionSorted(next.warnings, warnings);

  // userMetadata is the same map on every event of a job (it is given once, to CreateJob): fill in what is missing.
  for (const [k, v] of Object.entries(detail.userMetadata ?? {})) if (!(k in next.userMetadata)) next.userMetadata[k] = v;
  next.postId = next.userMetadata.postId ?? null;
  next.anomalies = anomaliesOf(next);
  return next;
}

function unionSorted<T>(a: T[], b: T[]): T[] {
  const byText = new Map<string, T>();
  for (const item of [...a, ...b]) byText.set(canonicalJson(item), item);
  return [...byText.keys()].sort().map((k) => byText.get(k) as T);
}

const IMAGE = /\.(jpe?g|png)$/i;

/** Flattens COMPLETE's outputGroupDetails (aws-facts.md §2, table of paths by group type). */
export function summariseOutputs(detail: JobStateChangeDetail): Pick<Job, 'outputs' | 'durationMs' | 'width' | 'height'> {
  const outputs: JobOutput[] = [];
  for (const group of detail.outputGroupDetails ?? []) {
    const type = group.type ?? UNTYPED_OUTPUT_GROUP;
    for (const uri of group.playlistFilePaths ?? []) outputs.push({ group: type, kind: 'playlist', uri });
    for (const od of group.outputDetails ?? []) {
      for (const uri of od.outputFilePaths ?? []) {
        const kind: OutputKind = IMAGE.test(uri)
          ? 'thumbnail'
          : type === 'FILE_GROUP' || type === UNTYPED_OUTPUT_GROUP
            ? /\.(mp4|mov|webm|mkv|ts)$/i.test(uri) ? 'video' : 'file'
            : 'rendition';
        const out: JobOutput = { group: type, kind, uri };
        if (typeof od.durationInMs === 'number') out.durationMs = od.durationInMs;
        if (typeof od.videoDetails?.widthInPx === 'number') out.width = od.videoDetails.widthInPx;
        if (typeof od.videoDetails?.heightInPx === 'number') out.height = od.videoDetails.heightInPx;
        outputs.push(out);
      }
    }
  }
  const media = outputs.filter((o) => o.kind !== 'thumbnail');
  const durations = media.map((o) => o.durationMs).filter((d): d is number => d !== undefined);
  const largest = media.filter((o) => o.width !== undefined && o.height !== undefined).sort((a, b) => b.width! * b.height! - a.width! * a.height!)[0];
  return {
    outputs,
    durationMs: durations.length ? Math.max(...durations) : null,
    width: largest?.width ?? null,
    height: largest?.height ?? null,
  };
}

export type VideoStatus = 'processing' | 'ready' | 'failed';

export interface PostState {
  videoStatus: VideoStatus;
  videoUrl: string | null;
  thumbnailUrl: string | null;
}

/** The Post's view of its job: the HLS playlist if there is one, else the MP4; the first thumbnail. */
export function postStateOf(job: Job): PostState {
  const videoStatus: VideoStatus = job.status === 'COMPLETE' ? 'ready' : job.status === 'PROGRESSING' ? 'processing' : 'failed';
  const outputs = job.outputs ?? [];
  const hls =
    outputs.find((o) => o.kind === 'playlist' && o.group === 'HLS_GROUP') ?? outputs.find((o) => o.kind === 'playlist' && /\.m3u8$/i.test(o.uri));
  const mp4 = outputs.find((o) => o.kind === 'video' && /\.mp4$/i.test(o.uri)) ?? outputs.find((o) => o.kind === 'video');
  const thumbnail = outputs.find((o) => o.kind === 'thumbnail');
  return { videoStatus, videoUrl: (hls ?? mp4)?.uri ?? null, thumbnailUrl: thumbnail?.uri ?? null };
}
