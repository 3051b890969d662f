/**
 * The runner's job list, kept in MediaConvert's wire format (what GetJob answers) and persisted to a small JSON file
 * (written to a temp file, then renamed) on every change, so a restart knows which jobs were running when the
 * process stopped.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type LocalJobStatus = 'SUBMITTED' | 'PROGRESSING' | 'COMPLETE' | 'CANCELED' | 'ERROR';

export interface LocalJob {
  id: string;
  arn: string;
  status: LocalJobStatus;
  /** Epoch seconds, as MediaConvert's REST API sends timestamps. */
  createdAt: number;
  role: string;
  settings: Record<string, any>;
  jobTemplate?: string;
  queue: string;
  priority: number;
  userMetadata: Record<string, string>;
  clientRequestToken?: string;
  statusUpdateInterval: string;
  timing: { submitTime: number; startTime?: number; finishTime?: number };
  currentPhase?: 'PROBING' | 'TRANSCODING' | 'UPLOADING';
  jobPercentComplete?: number;
  errorCode?: number;
  errorMessage?: string;
  /** GetJob's outputGroupDetails (durations and sizes; MediaConvert does not list paths here). */
  outputGroupDetails?: { outputDetails: { durationInMs?: number; videoDetails?: { widthInPx: number; heightInPx: number } }[] }[];
  /** vidpipe local's own bookkeeping; never sent on the wire. */
  local?: {
    ffmpegPid?: number;
    workDir?: string;
    /** What the job is storing (s3:// URIs), recorded before the first object is written. */
    storing?: string[];
    outputs?: string[];
  };
}

const MAX_KEPT = 1000;

export function wireJob(job: LocalJob): Record<string, unknown> {
  const { local: _local, ...wire } = job;
  return wire;
}

export class JobList {
  private jobs = new Map<string, LocalJob>();
  private tokens = new Map<string, string>();

  constructor(private readonly file: string) {
    if (existsSync(file)) {
      try {
        const data = JSON.parse(readFileSync(file, 'utf8')) as { jobs?: LocalJob[] };
        for (const j of data.jobs ?? []) this.add(j, false);
      } catch (err) {
        // Keep the unreadable file for a human; start empty.
        renameSync(file, `${file}.unreadable-${Date.now()}`);
        process.emitWarning(`vidpipe local: ${file} was unreadable (${(err as Error).message}); it was set aside and the job list starts empty`);
      }
    }
  }

  add(job: LocalJob, persist = true): void {
    this.jobs.set(job.id, job);
    if (job.clientRequestToken) this.tokens.set(job.clientRequestToken, job.id);
    if (persist) this.save();
  }

  get(id: string): LocalJob | undefined {
    return this.jobs.get(id);
  }

  byToken(token: string): LocalJob | undefined {
    const id = this.tokens.get(token);
    return id ? this.jobs.get(id) : undefined;
  }

  /** Oldest first. */
  all(): LocalJob[] {
    return [...this.jobs.values()];
  }

  update(id: string, patch: Partial<LocalJob>): LocalJob {
    const job = this.jobs.get(id);
    if (!job) throw new Error(`no job ${id}`);
    Object.assign(job, patch);
    this.save();
    return job;
  }

  save(): void {
    let list = this.all();
    if (list.length > MAX_KEPT) {
      // Forget the oldest finished jobs.
      const drop = new Set(list.filter((j) => j.status !== 'SUBMITTED' && j.status !== 'PROGRESSING').slice(0, list.length - MAX_KEPT).map((j) => j.id));
      for (const id of drop) this.jobs.delete(id);
      list = this.all();
    }
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ version: 1, jobs: list }, null, 1)}\n`);
    renameSync(tmp, this.file);
  }
}
