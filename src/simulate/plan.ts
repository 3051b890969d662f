/**
 * What `simulate-complete` sends, decided before anything is sent: the jobs, and each job's events in send order
 * (sequence, duplicates, shuffle applied). Pure apart from the BuildEnv, so --print and the senders share it.
 */
import {
  PLACEHOLDER_INPUT_BUCKET,
  PLACEHOLDER_OUTPUT_BUCKET,
  SIMULATED_BASENAME,
  buildEvent,
  buildSequence,
  defaultOutputs,
  duplicateEvents,
  makeJobId,
  shuffleEvents,
  type BuildEnv,
  type JobIdentity,
  type SimulatedOutputs,
} from '../events/build.js';
import type { JobStateChangeEvent, JobStatus } from '../events/types.js';

export interface SimulationSpec {
  status: JobStatus;
  jobId?: string;
  postId?: string;
  errorCode?: number;
  errorMessage?: string;
  sequence: boolean;
  duplicate: boolean;
  shuffle: boolean;
  count: number;
  /** From --output/--hls/--thumbnail; undefined → the templates' outputs under the output bucket. */
  outputs?: SimulatedOutputs;
}

export interface SimulationSetting {
  account: string;
  region: string;
  app?: string;
  inputBucket?: string;
  outputBucket?: string;
}

export interface PlannedJob {
  jobId: string;
  /** In send order. */
  events: JobStateChangeEvent[];
}

export function planSimulation(spec: SimulationSpec, setting: SimulationSetting, env: BuildEnv): PlannedJob[] {
  return Array.from({ length: spec.count }, () => {
    const jobId = spec.jobId ?? makeJobId(env);
    const inputKey = `${SIMULATED_BASENAME}.mp4`;
    const job: JobIdentity = {
      jobId,
      account: setting.account,
      region: setting.region,
      userMetadata: {
        app: setting.app ?? 'vidpipe',
        inputKey,
        ...(spec.postId !== undefined ? { postId: spec.postId } : {}),
      },
      inputUri: `s3://${setting.inputBucket ?? PLACEHOLDER_INPUT_BUCKET}/${inputKey}`,
      // One folder per job, as a per-upload prefix would give.
      outputs: spec.outputs ?? defaultOutputs(setting.outputBucket ?? PLACEHOLDER_OUTPUT_BUCKET, `simulated/${jobId}`),
    };
    const extras = { errorCode: spec.errorCode, errorMessage: spec.errorMessage };
    let events = spec.sequence ? buildSequence(spec.status, job, env, extras) : [buildEvent(spec.status, job, env.now(), env, extras)];
    if (spec.duplicate) events = duplicateEvents(events);
    if (spec.shuffle) events = shuffleEvents(events, env);
    return { jobId, events };
  });
}
