/**
 * The local job runner: a queue (one or two jobs at a time), and for each job probe → transcode → store, with the
 * events MediaConvert emits along the way. Outputs are written to a work folder and stored only after ffmpeg has
 * finished and every expected file has been checked, so nothing half-written is ever reported COMPLETE.
 */
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { OutputGroupDetail } from '../events/types.js';
import { EventSender, localEvent, type EventFields, type LocalJobRef } from './events.js';
import { killGroup, lastErrorLine, runProcess, type FfmpegBinaries } from './ffmpeg.js';
import { JobList, type LocalJob } from './jobs.js';
import { buildFfmpegArgs, groupDir, parseJobSettings, type GroupSpec, type JobSpec } from './plan.js';
import { avcCodecString, inputDetailsOf, probe, ProbeFailed, type MediaInfo } from './probe.js';
import { ObjectNotFound, type Storage } from './storage.js';

/** MediaConvert error codes (mediaconvert_error_codes.html): 1010 file access / cannot open or parse the input; 1999 other. */
export const ERROR_INPUT = 1010;
export const ERROR_OTHER = 1999;

export interface RunnerOptions {
  ffmpeg: FfmpegBinaries;
  storage: Storage;
  jobs: JobList;
  /** Staging folders, one per job, removed when the job ends. */
  workRoot: string;
  events: EventSender;
  account: string;
  region: string;
  /** Jobs transcoding at once: 1 or 2. */
  concurrency: number;
  /** x264 preset for every output, instead of the one QualityTuningLevel maps to (e.g. "ultrafast" in tests). */
  preset?: string;
  /**
   * Milliseconds between STATUS_UPDATE events. MediaConvert's StatusUpdateInterval is 10 s at the least; a local
   * transcode of a short clip is over sooner, so the default here is 1 s and one more update is always sent when
   * transcoding ends.
   */
  statusIntervalMs: number;
  log: (line: { level: 'info' | 'warn' | 'error'; msg: string; [k: string]: unknown }) => void;
}

class JobFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

export class Runner {
  private queue: string[] = [];
  private running = new Map<string, AbortController>();
  private idle: (() => void)[] = [];
  private stopping = false;

  constructor(private readonly o: RunnerOptions) {}

  ref(job: LocalJob): LocalJobRef {
    return { id: job.id, account: this.o.account, region: this.o.region, queue: job.queue, userMetadata: job.userMetadata, inputUri: String(job.settings?.inputs?.[0]?.fileInput ?? '') };
  }

  private emit(job: LocalJob, fields: EventFields): void {
    void this.o.events.send(localEvent(this.ref(job), fields));
  }

  /**
   * After a restart: a job that was running when the process stopped is failed: its ffmpeg, if still alive, is
   * killed, its work folder removed, and what it had begun to store deleted (unless a COMPLETE job lists the same
   * object: the thumbnails template writes the mp4 template's MP4 too). A job still waiting in the queue is resumed.
   */
  async recover(): Promise<{ failed: string[]; resumed: string[] }> {
    const failed: string[] = [];
    const resumed: string[] = [];
    const completeOutputs = new Set(this.o.jobs.all().flatMap((j) => (j.status === 'COMPLETE' ? (j.local?.outputs ?? []) : [])));
    for (const job of this.o.jobs.all()) {
      if (job.status === 'PROGRESSING') {
        const pid = job.local?.ffmpegPid;
        if (pid && isOurFfmpeg(pid, job.local?.workDir)) killGroup(pid);
        if (job.local?.workDir) await rm(job.local.workDir, { recursive: true, force: true });
        const partial = (job.local?.storing ?? []).filter((uri) => !completeOutputs.has(uri));
        for (const uri of partial) {
          const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
          if (!m) continue;
          try {
            await this.o.storage.delete(m[1]!, m[2]!);
          } catch (err) {
            this.o.log({ level: 'warn', msg: `could not delete ${uri} of an interrupted job: ${(err as Error).message}`, jobId: job.id });
          }
        }
        const message = `vidpipe local stopped while this job was ${job.currentPhase ?? 'running'}; it was not resumed${partial.length ? `, and the ${partial.length} file(s) it had begun to store were deleted` : ''}; no output was reported complete. Upload the file again to retry.`;
        this.fail(job, ERROR_OTHER, message);
        failed.push(job.id);
      } else if (job.status === 'SUBMITTED') {
        this.queue.push(job.id);
        resumed.push(job.id);
      }
    }
    this.pump();
    return { failed, resumed };
  }

  submit(job: LocalJob): void {
    this.queue.push(job.id);
    this.pump();
  }

  cancel(id: string): void {
    const job = this.o.jobs.get(id);
    if (!job) return;
    this.queue = this.queue.filter((q) => q !== id);
    const running = this.running.get(id);
    if (running) {
      running.abort();
      return; // run() reports CANCELED once ffmpeg is gone
    }
    this.o.jobs.update(id, { status: 'CANCELED', timing: { ...job.timing, finishTime: nowSeconds() } });
    this.emit(job, { status: 'CANCELED' });
  }

  get active(): number {
    return this.running.size;
  }

  /** Resolves when nothing is queued or running. */
  whenIdle(): Promise<void> {
    if (!this.queue.length && !this.running.size) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Stops taking jobs and kills running ffmpegs. Running jobs stay PROGRESSING in the job list: the next start fails them. */
  async stop(): Promise<void> {
    this.stopping = true;
    const pids = this.o.jobs
      .all()
      .filter((j) => this.running.has(j.id))
      .map((j) => j.local?.ffmpegPid);
    for (const pid of pids) killGroup(pid);
    for (const c of this.running.values()) c.abort(new Error('stopping'));
  }

  private pump(): void {
    while (!this.stopping && this.running.size < this.o.concurrency && this.queue.length) {
      const id = this.queue.shift()!;
      const job = this.o.jobs.get(id);
      if (!job || job.status !== 'SUBMITTED') continue;
      const controller = new AbortController();
      this.running.set(id, controller);
      void this.run(job, controller.signal).finally(() => {
        this.running.delete(id);
        this.pump();
        if (!this.queue.length && !this.running.size) for (const f of this.idle.splice(0)) f();
      });
    }
  }

  private fail(job: LocalJob, code: number, message: string): void {
    this.o.jobs.update(job.id, { status: 'ERROR', errorCode: code, errorMessage: message, timing: { ...job.timing, finishTime: nowSeconds() }, local: { ...job.local, ffmpegPid: undefined } });
    this.emit(job, { status: 'ERROR', errorCode: code, errorMessage: message });
    this.o.log({ level: 'warn', msg: 'ERROR', jobId: job.id, errorCode: code, errorMessage: message });
  }

  private async run(job: LocalJob, signal: AbortSignal): Promise<void> {
    const workDir = path.join(this.o.workRoot, job.id);
    const started = Date.now();
    this.o.jobs.update(job.id, { status: 'PROGRESSING', currentPhase: 'PROBING', jobPercentComplete: 0, timing: { ...job.timing, startTime: nowSeconds() }, local: { ...job.local, workDir } });
    this.emit(job, { status: 'PROGRESSING' });
    this.o.log({ level: 'info', msg: 'started', jobId: job.id, input: this.ref(job).inputUri });
    let outcome: () => void;
    try {
      const spec = parseJobSettings(job.settings);
      const inputUri = spec.input.uri;
      let inputPath: string;
      try {
        inputPath = await this.o.storage.fetch(spec.input.bucket, spec.input.key, path.join(workDir, 'in'));
      } catch (err) {
        if (err instanceof ObjectNotFound) throw new JobFailure(ERROR_INPUT, `Unable to open input file [${inputUri}]: [Failed probe/open: [NoSuchKey: the object does not exist]]`);
        throw err;
      }
      const size = (await stat(inputPath)).size;
      if (size === 0) throw new JobFailure(ERROR_INPUT, `Unable to open input file [${inputUri}]: [Failed probe/open: [The file is empty (0 bytes)]]`);
      let info: MediaInfo;
      try {
        info = await probe(this.o.ffmpeg.ffprobe, inputPath);
      } catch (err) {
        if (err instanceof ProbeFailed) throw new JobFailure(ERROR_INPUT, `Unable to open input file [${inputUri}]: [Failed probe/open: [No parser found for container]] (ffprobe: ${err.message})`);
        throw err;
      }
      this.emit(job, { status: 'INPUT_INFORMATION', inputDetails: inputDetailsOf(info, inputUri) });
      if (!info.video) throw new JobFailure(ERROR_INPUT, `Unable to open input file [${inputUri}]: [Failed probe/open: [No video stream found in a ${info.formatName} file]]`);
      if (info.durationMs <= 0) throw new JobFailure(ERROR_INPUT, `Unable to open input file [${inputUri}]: [Failed probe/open: [The input has no duration]]`);
      if (signal.aborted) throw signal.reason ?? new Error('aborted');

      const outDir = path.join(workDir, 'out');
      await this.transcode(job, spec, inputPath, info, outDir, signal);
      this.o.jobs.update(job.id, { currentPhase: 'UPLOADING', jobPercentComplete: 95 });
      const { details, wire, stored } = await this.store(job, spec, info, outDir, signal);
      outcome = () => {
        const finished = this.o.jobs.update(job.id, {
          status: 'COMPLETE',
          jobPercentComplete: 100,
          outputGroupDetails: wire,
          timing: { ...job.timing, finishTime: nowSeconds() },
          local: { ...job.local, ffmpegPid: undefined, outputs: stored },
        });
        this.emit(finished, { status: 'COMPLETE', outputGroupDetails: details });
        this.o.log({ level: 'info', msg: 'COMPLETE', jobId: job.id, seconds: Math.round((Date.now() - started) / 100) / 10, files: stored.length });
      };
    } catch (err) {
      if (signal.aborted && this.stopping) return; // left PROGRESSING with its work folder: the next start reports it
      if (signal.aborted)
        outcome = () => {
          this.o.jobs.update(job.id, { status: 'CANCELED', timing: { ...job.timing, finishTime: nowSeconds() }, local: { ...job.local, ffmpegPid: undefined } });
          this.emit(job, { status: 'CANCELED' });
          this.o.log({ level: 'info', msg: 'CANCELED', jobId: job.id });
        };
      else if (err instanceof JobFailure) outcome = () => this.fail(job, (err as JobFailure).code, err.message);
      else outcome = () => this.fail(job, ERROR_OTHER, `vidpipe local: ${(err as Error).message}`);
    }
    // The work folder goes before the job is reported finished: a finished job leaves nothing behind.
    await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
    outcome();
  }

  private async transcode(job: LocalJob, spec: JobSpec, inputPath: string, info: MediaInfo, outDir: string, signal: AbortSignal): Promise<void> {
    for (const g of spec.groups) await import('node:fs/promises').then((fs) => fs.mkdir(groupDir(outDir, g), { recursive: true }));
    const args = buildFfmpegArgs(spec, inputPath, info, outDir, this.o.preset ? { preset: this.o.preset } : {});
    const totalFrames = info.video?.frames ?? Math.round((info.durationMs / 1000) * (info.video?.frameRate || 25));
    let frames = 0;
    let outMs = 0;
    const percent = () => Math.min(99, info.durationMs > 0 ? (outMs / info.durationMs) * 100 : 0);
    const jobPercent = (transcoding: number) => 5 + transcoding * 0.9;
    this.o.jobs.update(job.id, { currentPhase: 'TRANSCODING', jobPercentComplete: 5 });
    const update = (phase: 'TRANSCODING' | 'UPLOADING', transcoding: number) => {
      this.o.jobs.update(job.id, { currentPhase: phase, jobPercentComplete: Math.round(jobPercent(transcoding)) });
      this.emit(job, { status: 'STATUS_UPDATE', framesDecoded: frames, phase, probing: 100, transcoding, uploading: 0, job: jobPercent(transcoding) });
    };
    const timer = setInterval(() => update('TRANSCODING', percent()), this.o.statusIntervalMs);
    let result;
    try {
      result = await runProcess(this.o.ffmpeg.ffmpeg, args, {
        signal,
        keepStdout: false,
        onSpawn: (pid) => this.o.jobs.update(job.id, { local: { ...this.o.jobs.get(job.id)!.local, ffmpegPid: pid } }),
        onStdoutLine: (line) => {
          const eq = line.indexOf('=');
          if (eq < 0) return;
          const k = line.slice(0, eq);
          const v = line.slice(eq + 1);
          if (k === 'frame') frames = Math.max(frames, Number(v) || 0);
          else if (k === 'out_time_us' && /^\d+$/.test(v)) outMs = Math.max(outMs, Number(v) / 1000);
        },
      });
    } finally {
      clearInterval(timer);
    }
    if (signal.aborted) throw signal.reason ?? new Error('aborted');
    if (result.code !== 0) {
      const why = lastErrorLine(result.stderr);
      const undecodable = /Invalid data found|could not find codec|decod/i.test(result.stderr);
      throw new JobFailure(undecodable ? ERROR_INPUT : ERROR_OTHER, `${undecodable ? `Unable to decode input file [${spec.input.uri}]` : 'Transcoding failed'}: [ffmpeg exited ${result.code ?? result.signal}: ${why}]`);
    }
    if (frames === 0) frames = totalFrames;
    update('UPLOADING', 100);
  }

  /** Checks every output, writes HLS multivariant playlists, stores the files, and describes them as COMPLETE does. */
  private async store(job: LocalJob, spec: JobSpec, info: MediaInfo, outDir: string, signal: AbortSignal): Promise<{ details: OutputGroupDetail[]; wire: NonNullable<LocalJob['outputGroupDetails']>; stored: string[] }> {
    const details: OutputGroupDetail[] = [];
    const files: { bucket: string; key: string; file: string }[] = [];
    for (const g of spec.groups) {
      const dir = groupDir(outDir, g);
      const uri = (name: string) => `s3://${g.destination.bucket}/${g.destination.prefix}${name}`;
      const add = (name: string) => files.push({ bucket: g.destination.bucket, key: `${g.destination.prefix}${name}`, file: path.join(dir, name) });
      const listing = await readdir(dir);
      const outputDetails: NonNullable<OutputGroupDetail['outputDetails']> = [];
      const renditions: { name: string; bandwidth: number; average: number; width: number; height: number; codecs: string; frameRate: number }[] = [];
      for (const o of g.outputs) {
        if (o.kind === 'frames') {
          const captures = listing.filter((f) => f.startsWith(`${o.name}.`) && /\.\d{7}\.jpg$/.test(f)).sort();
          if (!captures.length) throw new JobFailure(ERROR_OTHER, `Frame capture ${o.name} produced no image.`);
          const last = captures.at(-1)!;
          const p = await probe(this.o.ffmpeg.ffprobe, path.join(dir, last));
          captures.forEach(add);
          // AWS's frame-capture sample reports the last image, with the input's duration.
          outputDetails.push({ outputFilePaths: [uri(last)], durationInMs: info.durationMs, videoDetails: { widthInPx: p.video!.width, heightInPx: p.video!.height } });
        } else if (o.kind === 'mp4') {
          const file = `${o.name}.mp4`;
          if (!listing.includes(file)) throw new JobFailure(ERROR_OTHER, `ffmpeg wrote no ${file}.`);
          const p = await probe(this.o.ffmpeg.ffprobe, path.join(dir, file)).catch(() => undefined);
          if (!p?.video) throw new JobFailure(ERROR_OTHER, `${file} is not a playable video.`);
          add(file);
          outputDetails.push({ outputFilePaths: [uri(file)], durationInMs: p.durationMs, blackVideoDurationInMs: 0, videoDetails: { widthInPx: p.video.width, heightInPx: p.video.height } });
        } else {
          const manifest = `${o.name}.m3u8`;
          if (!listing.includes(manifest)) throw new JobFailure(ERROR_OTHER, `ffmpeg wrote no ${manifest}.`);
          const text = await readFile(path.join(dir, manifest), 'utf8');
          const segments = [...text.matchAll(/#EXTINF:([\d.]+),?\s*\n([^#\s][^\n]*)/g)].map((m) => ({ seconds: Number(m[1]), file: m[2]!.trim() }));
          if (!segments.length || !text.includes('#EXT-X-ENDLIST')) throw new JobFailure(ERROR_OTHER, `${manifest} is incomplete.`);
          let bytes = 0;
          let peak = 0;
          for (const s of segments) {
            const size = (await stat(path.join(dir, s.file))).size;
            bytes += size;
            if (s.seconds > 0) peak = Math.max(peak, (size * 8) / s.seconds);
          }
          const seconds = segments.reduce((a, s) => a + s.seconds, 0);
          const p = await probe(this.o.ffmpeg.ffprobe, path.join(dir, segments[0]!.file));
          if (!p.video) throw new JobFailure(ERROR_OTHER, `${manifest}'s first segment has no video.`);
          add(manifest);
          for (const s of segments) add(s.file);
          outputDetails.push({ outputFilePaths: [uri(manifest)], durationInMs: Math.round(seconds * 1000), blackVideoDurationInMs: 0, videoDetails: { widthInPx: p.video.width, heightInPx: p.video.height } });
          renditions.push({
            name: manifest,
            bandwidth: Math.ceil(peak),
            average: seconds > 0 ? Math.ceil((bytes * 8) / seconds) : Math.ceil(peak),
            width: p.video.width,
            height: p.video.height,
            codecs: `${avcCodecString(p.video.profile, p.video.level)}${p.audio ? ',mp4a.40.2' : ''}`,
            frameRate: p.video.frameRate,
          });
        }
      }
      const detail: OutputGroupDetail = { outputDetails, type: g.type };
      if (g.type === 'HLS_GROUP') {
        const master = `${g.base}.m3u8`;
        await writeFile(path.join(dir, master), masterPlaylist(renditions));
        add(master);
        detail.playlistFilePaths = [uri(master)];
      }
      details.push(detail);
    }
    // Store the multivariant playlist of each group last, so a player never finds it before its renditions.
    const stored: string[] = [];
    const ordered = [...files.filter((f) => !isMaster(f.key, spec.groups)), ...files.filter((f) => isMaster(f.key, spec.groups))];
    // Written down first, so a restart after a crash mid-way can delete what was stored of a job that never completed.
    this.o.jobs.update(job.id, { local: { ...this.o.jobs.get(job.id)!.local, storing: ordered.map((f) => `s3://${f.bucket}/${f.key}`) } });
    for (const f of ordered) {
      if (signal.aborted) throw signal.reason ?? new Error('aborted');
      await this.o.storage.putFile(f.bucket, f.key, f.file);
      stored.push(`s3://${f.bucket}/${f.key}`);
    }
    const wire = details.map((d) => ({ outputDetails: (d.outputDetails ?? []).map((od) => ({ durationInMs: od.durationInMs, videoDetails: od.videoDetails as { widthInPx: number; heightInPx: number } })) }));
    return { details, wire, stored };
  }
}

function isMaster(key: string, groups: GroupSpec[]): boolean {
  return groups.some((g) => g.type === 'HLS_GROUP' && key === `${g.destination.prefix}${g.base}.m3u8`);
}

/** The HLS multivariant playlist (RFC 8216 §4.3.4.2): one EXT-X-STREAM-INF per rendition, in the template's order. */
export function masterPlaylist(renditions: { name: string; bandwidth: number; average: number; width: number; height: number; codecs: string; frameRate: number }[]): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const r of renditions) {
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${r.bandwidth},AVERAGE-BANDWIDTH=${r.average},CODECS="${r.codecs}",RESOLUTION=${r.width}x${r.height}${r.frameRate ? `,FRAME-RATE=${r.frameRate.toFixed(3)}` : ''}`,
      r.name,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** A pid recorded before a restart is killed only if it is still an ffmpeg writing into that job's work folder. */
function isOurFfmpeg(pid: number, workDir: string | undefined): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('ffmpeg') && (!workDir || cmdline.includes(workDir));
  } catch {
    return false;
  }
}

