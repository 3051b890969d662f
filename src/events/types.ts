/**
 * The "MediaConvert Job State Change" event model shared by the listener (which validates and stores it) and the
 * simulator (which builds it). Shapes: ../shared/reference/aws-facts.md §2 and the MediaConvert user guide
 * (mediaconvert_event_list.html). Every optional field is optional; unknown fields are kept as they came.
 */

export const JOB_STATUSES = [
  'COMPLETE',
  'ERROR',
  'PROGRESSING',
  'STATUS_UPDATE',
  'INPUT_INFORMATION',
  'NEW_WARNING',
  'QUEUE_HOP',
  'CANCELED',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses after which a job never changes state again. */
export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['COMPLETE', 'ERROR', 'CANCELED']);

export const MEDIACONVERT_SOURCE = 'aws.mediaconvert';
export const MEDIACONVERT_DETAIL_TYPE = 'MediaConvert Job State Change';

export const OUTPUT_GROUP_TYPES = ['FILE_GROUP', 'HLS_GROUP', 'DASH_ISO_GROUP', 'CMAF_GROUP', 'MS_SMOOTH_GROUP'] as const;
export type OutputGroupType = (typeof OUTPUT_GROUP_TYPES)[number];
/** The group recorded for outputs of a group without a type (a hand-written test body): plain files, like FILE_GROUP's. */
export const UNTYPED_OUTPUT_GROUP = 'UNTYPED';

export interface VideoDetails {
  widthInPx?: number;
  heightInPx?: number;
  // QVBR fields appear under two spellings in AWS's samples, and only for QVBR outputs.
  qvbrAvgQuality?: number;
  averageQVBRScore?: number;
  [extra: string]: unknown;
}

export interface OutputDetail {
  outputFilePaths?: string[];
  durationInMs?: number;
  blackVideoDurationInMs?: number;
  videoDetails?: VideoDetails;
  [extra: string]: unknown;
}

export interface OutputGroupDetail {
  /**
   * FILE_GROUP, HLS_GROUP, DASH_ISO_GROUP, CMAF_GROUP, MS_SMOOTH_GROUP — kept as a string: AWS may add types. MediaConvert
   * always sends one; the original system's curl test body does not (the job records UNTYPED_OUTPUT_GROUP).
   */
  type?: OutputGroupType | (string & {});
  outputDetails?: OutputDetail[];
  /** HLS: the multivariant playlist; DASH: the .mpd; CMAF: both. */
  playlistFilePaths?: string[];
  [extra: string]: unknown;
}

export interface JobWarning {
  /** A number in COMPLETE events (the docs print `000000`, which is not JSON). */
  code: number | string;
  count?: number;
  [extra: string]: unknown;
}

export interface PhaseProgress {
  status?: string;
  percentComplete?: number;
}

export interface JobProgress {
  phaseProgress?: Record<string, PhaseProgress>;
  jobPercentComplete?: number;
  currentPhase?: string;
  retryCount?: number;
  [extra: string]: unknown;
}

export interface InputDetail {
  id?: number;
  uri?: string;
  audio?: Record<string, unknown>[];
  video?: { width?: number; height?: number; codec?: string; frameRate?: number; [extra: string]: unknown }[];
  [extra: string]: unknown;
}

export interface JobStateChangeDetail {
  /** Epoch milliseconds from MediaConvert; an ISO-8601 string in hand-written test bodies. */
  timestamp: number | string;
  accountId?: string;
  queue?: string;
  jobId: string;
  status: JobStatus;
  /** The string→string map given to CreateJob; vidpipe puts postId, inputKey and app here. */
  userMetadata?: Record<string, string>;
  // ERROR
  errorCode?: number | string;
  errorMessage?: string;
  // COMPLETE
  warnings?: JobWarning[];
  outputGroupDetails?: OutputGroupDetail[];
  paddingInserted?: number;
  blackVideoDetected?: number;
  // STATUS_UPDATE
  framesDecoded?: number;
  jobProgress?: JobProgress;
  // INPUT_INFORMATION
  inputDetails?: InputDetail[];
  // NEW_WARNING (warningCode is a string here, unlike warnings[].code)
  warningCode?: string | number;
  warningMessage?: string;
  // QUEUE_HOP
  previousQueue?: string;
  priority?: number;
  previousPriority?: number;
  [extra: string]: unknown;
}

/** The envelope exactly as an EventBridge API destination POSTs it. */
export interface EventEnvelope<D = JobStateChangeDetail> {
  version: string;
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  /** ISO-8601 to the second, e.g. 2022-12-19T19:07:12Z. */
  time: string;
  region: string;
  resources: string[];
  detail: D;
}

export type JobStateChangeEvent = EventEnvelope<JobStateChangeDetail>;
