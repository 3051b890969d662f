/**
 * Builds "MediaConvert Job State Change" events exactly as MediaConvert emits them (../shared/reference/aws-facts.md
 * §2), for `vidpipe simulate-complete`. Pure: the clock and the random source come in as a BuildEnv, so tests are
 * deterministic.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { HLS_LADDER, expectedOutputs, frameCaptureCount, frameCaptureName } from '../../templates/job-templates.js';
import {
  MEDIACONVERT_DETAIL_TYPE,
  MEDIACONVERT_SOURCE,
  TERMINAL_STATUSES,
  type JobStateChangeDetail,
  type JobStateChangeEvent,
  type JobStatus,
  type OutputGroupDetail,
} from './types.js';

export interface BuildEnv {
  /** Epoch milliseconds. */
  now(): number;
  uuid(): string;
  /** A number in [0, 1). */
  random(): number;
}

export const systemBuildEnv: BuildEnv = {
  now: () => Date.now(),
  uuid: () => randomUUID(),
  random: () => randomInt(0, 2 ** 32) / 2 ** 32,
};

/** AWS's documentation placeholder account (aws-facts §2); a real one comes from STS when sending via EventBridge. */
export const PLACEHOLDER_ACCOUNT = '111122223333';
export const PLACEHOLDER_OUTPUT_BUCKET = 'vidpipe-example-output';
export const PLACEHOLDER_INPUT_BUCKET = 'vidpipe-example-input';
/** The base name of the simulated upload (sample.mp4). */
export const SIMULATED_BASENAME = 'sample';

/** MediaConvert job ids: creation time in epoch ms, a dash, 6 lower-case alphanumerics (e.g. 1671476818694-phptj0). */
export const JOB_ID_PATTERN = /^\d{13}-[a-z0-9]{6}$/;
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A sequence spans at most 8 gaps of 11 s: a job created this long before now predates all its events. */
const JOB_AGE_MS = 90_000;

export function makeJobId(env: Pick<BuildEnv, 'now' | 'random'>, createdAt = env.now() - JOB_AGE_MS): string {
  let suffix = '';
  for (let i = 0; i < 6; i++) suffix += ID_ALPHABET[Math.floor(env.random() * ID_ALPHABET.length)];
  return `${createdAt}-${suffix}`;
}

/** The files a COMPLETE event reports, grouped as MediaConvert groups them. */
export interface SimulatedOutputs {
  /** One FILE_GROUP with one MP4 output per path. */
  mp4: string[];
  /** HLS_GROUP: the multivariant playlist and one manifest per rendition. */
  hls?: { playlist: string; renditions: { path: string; width: number; height: number }[] };
  /** FILE_GROUP with frame capture: the last captured image. */
  thumbnail?: string;
}

/** Simulated source: 30 s of 1080p at 24 fps (the numbers of AWS's COMPLETE sample). */
const DURATION_MS = 30_041;
const FRAME_RATE = 24;
/** The thumbnails template captures one frame every 5 s. */
const CAPTURE_EVERY_MS = 5_000;

/** Outputs a job from vidpipe's templates writes (templates/job-templates.ts naming). */
export function defaultOutputs(outputBucket: string, prefix: string, basename = SIMULATED_BASENAME): SimulatedOutputs {
  const files = expectedOutputs(outputBucket, prefix, basename);
  return {
    mp4: [files.mp4],
    hls: { playlist: files.hlsPlaylist, renditions: files.hlsRenditions },
    thumbnail: files.thumbnail(Math.ceil(DURATION_MS / CAPTURE_EVERY_MS)),
  };
}

/** `--hls s3://…/main.m3u8`: rendition manifests are named like the templates' (main_360.m3u8 …). */
export function hlsOutputsFor(playlist: string): NonNullable<SimulatedOutputs['hls']> {
  const stem = playlist.replace(/\.m3u8$/, '');
  return { playlist, renditions: HLS_LADDER.map((r) => ({ path: `${stem}${r.nameModifier}.m3u8`, width: r.width, height: r.height })) };
}

/** `--thumbnail`: a .jpg is taken as is; a folder or a stem gets the last capture's number. */
export function thumbnailPathFor(uri: string): string {
  if (/\.jpe?g$/i.test(uri)) return uri;
  // Captures are numbered from .0000000 (AWS's frame-capture sample), so the last is count − 1.
  const last = frameCaptureCount(DURATION_MS, CAPTURE_EVERY_MS) - 1;
  return uri.endsWith('/') ? `${uri}${frameCaptureName(SIMULATED_BASENAME, last)}` : frameCaptureName(uri, last);
}

export interface JobIdentity {
  jobId: string;
  account: string;
  region: string;
  /** Queue ARN; default: the account's Default queue. */
  queue?: string;
  userMetadata: Record<string, string>;
  /** The input file (INPUT_INFORMATION's uri, ERROR's message). */
  inputUri: string;
  outputs: SimulatedOutputs;
}

export interface StatusExtras {
  errorCode?: number;
  errorMessage?: string;
  /** STATUS_UPDATE: which step of the life (see PROGRESS_STEPS). */
  progressStep?: number;
}

/**
 * STATUS_UPDATE steps through PROBING → TRANSCODING → UPLOADING with a rising jobPercentComplete
 * (aws-facts §2.6: phases and percentages as MediaConvert reports them).
 */
export const PROGRESS_STEPS = [
  { currentPhase: 'PROBING', probing: 60, transcoding: 0, uploading: 0, job: 3 },
  { currentPhase: 'TRANSCODING', probing: 100, transcoding: 35, uploading: 0, job: 38 },
  { currentPhase: 'TRANSCODING', probing: 100, transcoding: 80, uploading: 0, job: 78 },
  { currentPhase: 'UPLOADING', probing: 100, transcoding: 100, uploading: 50, job: 96 },
] as const;

export function queueArn(region: string, account: string, name = 'Default'): string {
  return `arn:aws:mediaconvert:${region}:${account}:queues/${name}`;
}

export function jobArn(region: string, account: string, jobId: string): string {
  return `arn:aws:mediaconvert:${region}:${account}:jobs/${jobId}`;
}

/** ISO-8601 to the second, as in EventBridge's `time`: 2022-12-19T19:07:12Z. */
export function isoSeconds(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function phaseStatus(percent: number, current: boolean): string {
  if (percent >= 100) return 'COMPLETE';
  return current || percent > 0 ? 'PROGRESSING' : 'PENDING';
}

function outputGroupDetails(outputs: SimulatedOutputs): OutputGroupDetail[] {
  const video = (widthInPx: number, heightInPx: number) => ({ widthInPx, heightInPx });
  const groups: OutputGroupDetail[] = [];
  if (outputs.mp4.length)
    groups.push({
      outputDetails: outputs.mp4.map((p) => ({ outputFilePaths: [p], durationInMs: DURATION_MS, blackVideoDurationInMs: 0, videoDetails: video(1280, 720) })),
      type: 'FILE_GROUP',
    });
  if (outputs.hls)
    groups.push({
      outputDetails: outputs.hls.renditions.map((r) => ({
        outputFilePaths: [r.path],
        durationInMs: DURATION_MS,
        blackVideoDurationInMs: 0,
        videoDetails: video(r.width, r.height),
      })),
      type: 'HLS_GROUP',
      playlistFilePaths: [outputs.hls.playlist],
    });
  if (outputs.thumbnail)
    groups.push({ outputDetails: [{ outputFilePaths: [outputs.thumbnail], durationInMs: DURATION_MS, videoDetails: video(1280, 720) }], type: 'FILE_GROUP' });
  return groups;
}

function statusFields(status: JobStatus, job: JobIdentity, extras: StatusExtras): Partial<JobStateChangeDetail> {
  switch (status) {
    case 'COMPLETE':
      return { outputGroupDetails: outputGroupDetails(job.outputs), paddingInserted: 0, blackVideoDetected: 0 };
    case 'ERROR':
      return {
        errorCode: extras.errorCode ?? 1010,
        // The shape of MediaConvert's 1010 (file access) messages.
        errorMessage: extras.errorMessage ?? `Unable to open input file [${job.inputUri}]: [Failed probe/open: [Failed to read data: AccessDenied]]`,
      };
    case 'STATUS_UPDATE': {
      const step = PROGRESS_STEPS[Math.min(extras.progressStep ?? 1, PROGRESS_STEPS.length - 1)]!;
      const phase = (name: string, percent: number) => ({ status: phaseStatus(percent, step.currentPhase === name), percentComplete: percent });
      return {
        framesDecoded: Math.round(((DURATION_MS / 1000) * FRAME_RATE * step.transcoding) / 100),
        jobProgress: {
          phaseProgress: {
            PROBING: phase('PROBING', step.probing),
            TRANSCODING: phase('TRANSCODING', step.transcoding),
            UPLOADING: phase('UPLOADING', step.uploading),
          },
          jobPercentComplete: step.job,
          currentPhase: step.currentPhase,
          retryCount: 0,
        },
      };
    }
    case 'INPUT_INFORMATION':
      return {
        inputDetails: [
          {
            id: 1,
            uri: job.inputUri,
            audio: [{ channels: 2, codec: 'AAC', language: 'UND', sampleRate: 44100, streamId: 2 }],
            video: [
              {
                bitDepth: 8,
                codec: 'H_264',
                colorFormat: 'YUV_420',
                fourCC: 'avc1',
                frameRate: FRAME_RATE,
                height: 1080,
                interlaceMode: 'PROGRESSIVE',
                sar: '1:1',
                standard: 'UNSPECIFIED',
                streamId: 1,
                width: 1920,
              },
            ],
          },
        ],
      };
    case 'NEW_WARNING':
      return { warningCode: '000000', warningMessage: 'Simulated warning (vidpipe simulate-complete)' };
    case 'QUEUE_HOP':
      return { previousQueue: queueArn(job.region, job.account, 'Alternate'), priority: 0, previousPriority: 0 };
    case 'PROGRESSING':
    case 'CANCELED':
      return {};
  }
}

/** One event of `status` for `job`, stamped `at` (epoch ms). */
export function buildEvent(status: JobStatus, job: JobIdentity, at: number, env: Pick<BuildEnv, 'uuid'>, extras: StatusExtras = {}): JobStateChangeEvent {
  const detail: JobStateChangeDetail = {
    timestamp: at,
    accountId: job.account,
    queue: job.queue ?? queueArn(job.region, job.account),
    jobId: job.jobId,
    status,
    userMetadata: { ...job.userMetadata },
    ...statusFields(status, job, extras),
  };
  return {
    version: '0',
    id: env.uuid(),
    'detail-type': MEDIACONVERT_DETAIL_TYPE,
    source: MEDIACONVERT_SOURCE,
    account: job.account,
    time: isoSeconds(at),
    region: job.region,
    resources: [jobArn(job.region, job.account, job.jobId)],
    detail,
  };
}

/**
 * The life of a job: PROGRESSING → STATUS_UPDATE × n (rising percentages) → the terminal status → a late
 * INPUT_INFORMATION. Timestamps rise strictly in that order, a few seconds apart, and end at env.now().
 * An ERROR job fails during transcoding, so it gets only the first updates.
 */
export function buildSequence(terminal: JobStatus, job: JobIdentity, env: BuildEnv, extras: StatusExtras = {}): JobStateChangeEvent[] {
  if (!TERMINAL_STATUSES.has(terminal)) throw new Error(`a sequence ends in COMPLETE, ERROR or CANCELED, not ${terminal}`);
  const updates = terminal === 'COMPLETE' ? PROGRESS_STEPS.length : 2;
  const plan: { status: JobStatus; extras: StatusExtras }[] = [
    { status: 'PROGRESSING', extras: {} },
    ...Array.from({ length: updates }, (_, progressStep) => ({ status: 'STATUS_UPDATE' as const, extras: { progressStep } })),
    { status: terminal, extras },
    { status: 'INPUT_INFORMATION', extras: {} },
  ];
  // Gaps of 1–11 s (StatusUpdateInterval is ≥ 10 s), so even `time` (to the second) never goes backwards.
  const gaps = plan.map(() => 1_000 + Math.floor(env.random() * 10_000));
  const span = gaps.reduce((a, b) => a + b, 0);
  let at = env.now() - span;
  return plan.map((step, i) => {
    at += gaps[i]!;
    return buildEvent(step.status, job, at, env, step.extras);
  });
}

/** Every event twice, the copy keeping its id: EventBridge's at-least-once redelivery. */
export function duplicateEvents<T>(events: T[]): T[] {
  return events.flatMap((e) => [e, e]);
}

/** Fisher–Yates with env.random; never returns the original order when there is any other. */
export function shuffleEvents<T>(events: T[], env: Pick<BuildEnv, 'random'>): T[] {
  const out = [...events];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(env.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  if (out.every((e, i) => e === events[i])) out.reverse();
  return out;
}
