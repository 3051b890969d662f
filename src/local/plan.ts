/**
 * A MediaConvert job's Settings (wire format: lowerCamelCase, as @aws-sdk/client-mediaconvert sends CreateJob) →
 * what vidpipe local runs: one ffmpeg process that decodes the input once and writes every output of every group.
 *
 * Implemented (what vidpipe's templates use, templates/job-templates.ts): FILE_GROUP with MP4 (H.264/AAC) outputs
 * and RAW frame-capture (JPEG) outputs; HLS_GROUP with H.264/AAC renditions in MPEG-TS segments. Anything else (DASH,
 * CMAF, Smooth, other codecs) is refused at CreateJob with a BadRequestException naming it.
 *
 * File names follow MediaConvert (output-file-names-and-paths.html): a Destination ending in "/" takes the input's
 * base name, otherwise its last path part is the base name; then NameModifier; then the extension. Frame captures are
 * <base>.<7-digit index>.jpg numbered from 0000000 (AWS's sample: 185 s at one frame per 5 s ends at .0000036, which
 * is 37 captures numbered from zero); HLS segments are <base><modifier>_<5-digit index>.ts from 00001.
 */
import path from 'node:path';
import { inputBaseName } from '../upload/job-request.js';
import type { MediaInfo } from './probe.js';

export class PlanError extends Error {}

type Wire = Record<string, any>;

export interface S3Location {
  bucket: string;
  /** Key prefix ending in "/" (or ""). */
  prefix: string;
}

export interface VideoSpec {
  width?: number;
  height?: number;
  bitrate: number;
  profile: 'baseline' | 'main' | 'high';
  gopSize: number;
  gopUnits: 'FRAMES' | 'SECONDS';
  bFrames: number;
  refs: number;
  /** From QualityTuningLevel; overridden by the runner's preset option. */
  preset: string;
  frameRate?: { num: number; den: number };
}

export interface AudioSpec {
  bitrate: number;
  sampleRate: number;
  channels: number;
}

export type OutputSpec =
  | { kind: 'mp4'; name: string; video: VideoSpec; audio?: AudioSpec }
  | { kind: 'hls'; name: string; video: VideoSpec; audio?: AudioSpec; bitrate: number }
  | { kind: 'frames'; name: string; everyNum: number; everyDen: number; max: number; quality: number; width?: number; height?: number };

export interface GroupSpec {
  type: 'FILE_GROUP' | 'HLS_GROUP';
  customName?: string;
  destination: S3Location;
  /** The base name outputs are named from. */
  base: string;
  segmentLength: number;
  outputs: OutputSpec[];
}

export interface JobSpec {
  input: { uri: string; bucket: string; key: string };
  groups: GroupSpec[];
}

export function parseS3Uri(uri: string, what: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new PlanError(`${what} must be an s3:// URI, got "${uri}".`);
  return { bucket: m[1]!, key: m[2]! };
}

const num = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

/** QualityTuningLevel → an x264 preset of similar effort. */
const PRESETS: Record<string, string> = { SINGLE_PASS: 'veryfast', SINGLE_PASS_HQ: 'medium', MULTI_PASS_HQ: 'slow' };

function videoSpec(vd: Wire, where: string): VideoSpec {
  const codec = vd.codecSettings?.codec;
  if (codec !== 'H_264') throw new PlanError(`${where}: vidpipe local encodes H_264 only, not ${codec ?? 'no codec'}.`);
  const h = (vd.codecSettings.h264Settings ?? {}) as Wire;
  const bitrate = num(h.bitrate, num(h.maxBitrate, 5_000_000));
  const profile = h.codecProfile === 'HIGH' ? 'high' : h.codecProfile === 'BASELINE' ? 'baseline' : 'main';
  const fr =
    h.framerateControl === 'SPECIFIED' && h.framerateNumerator && h.framerateDenominator
      ? { frameRate: { num: Number(h.framerateNumerator), den: Number(h.framerateDenominator) } }
      : {};
  return {
    ...(typeof vd.width === 'number' ? { width: vd.width } : {}),
    ...(typeof vd.height === 'number' ? { height: vd.height } : {}),
    bitrate,
    profile,
    gopSize: num(h.gopSize, 90),
    gopUnits: h.gopSizeUnits === 'SECONDS' ? 'SECONDS' : 'FRAMES',
    bFrames: num(h.numberBFramesBetweenReferenceFrames, 2),
    refs: num(h.numberReferenceFrames, 3),
    preset: PRESETS[h.qualityTuningLevel as string] ?? 'veryfast',
    ...fr,
  };
}

function audioSpec(descriptions: Wire[] | undefined, where: string): AudioSpec | undefined {
  const ad = descriptions?.[0];
  if (!ad) return undefined;
  const codec = ad.codecSettings?.codec;
  if (codec !== 'AAC') throw new PlanError(`${where}: vidpipe local encodes AAC audio only, not ${codec ?? 'no codec'}.`);
  const a = (ad.codecSettings.aacSettings ?? {}) as Wire;
  const channels = a.codingMode === 'CODING_MODE_1_0' ? 1 : a.codingMode === 'CODING_MODE_5_1' ? 6 : 2;
  return { bitrate: num(a.bitrate, 96_000), sampleRate: num(a.sampleRate, 48_000), channels };
}

/** Checks the settings and resolves names; throws PlanError (CreateJob's 400) for what it cannot run. */
export function parseJobSettings(settings: Wire | undefined): JobSpec {
  if (!settings || typeof settings !== 'object') throw new PlanError('settings is required.');
  const inputs = settings.inputs as Wire[] | undefined;
  if (!Array.isArray(inputs) || inputs.length !== 1)
    throw new PlanError(`vidpipe local runs jobs with exactly one input, got ${Array.isArray(inputs) ? inputs.length : 'none'}.`);
  const fileInput = inputs[0]!.fileInput;
  if (typeof fileInput !== 'string') throw new PlanError('settings.inputs[0].fileInput is required.');
  const input = { uri: fileInput, ...parseS3Uri(fileInput, 'settings.inputs[0].fileInput') };
  if (!input.key || input.key.endsWith('/')) throw new PlanError(`settings.inputs[0].fileInput must name a file, got "${fileInput}".`);
  const groupsIn = settings.outputGroups as Wire[] | undefined;
  if (!Array.isArray(groupsIn) || groupsIn.length === 0) throw new PlanError('settings.outputGroups must list at least one output group.');
  const groups = groupsIn.map((g, gi): GroupSpec => {
    const where = `outputGroups[${gi}]${g.customName ? ` (${g.customName})` : ''}`;
    const type = g.outputGroupSettings?.type;
    let destinationUri: string | undefined;
    let kind: GroupSpec['type'];
    let segmentLength = 10;
    if (type === 'FILE_GROUP_SETTINGS') {
      kind = 'FILE_GROUP';
      destinationUri = g.outputGroupSettings.fileGroupSettings?.destination;
    } else if (type === 'HLS_GROUP_SETTINGS') {
      kind = 'HLS_GROUP';
      destinationUri = g.outputGroupSettings.hlsGroupSettings?.destination;
      segmentLength = num(g.outputGroupSettings.hlsGroupSettings?.segmentLength, 10);
    } else throw new PlanError(`${where}: vidpipe local implements FILE_GROUP_SETTINGS and HLS_GROUP_SETTINGS, not ${type ?? 'no type'}.`);
    if (typeof destinationUri !== 'string') throw new PlanError(`${where}: a destination is required.`);
    const dest = parseS3Uri(destinationUri, `${where} destination`);
    const endsWithSlash = dest.key === '' || dest.key.endsWith('/');
    const prefix = endsWithSlash ? dest.key : dest.key.slice(0, dest.key.lastIndexOf('/') + 1);
    const base = endsWithSlash ? inputBaseName(input.key) : dest.key.slice(dest.key.lastIndexOf('/') + 1);
    const outputsIn = g.outputs as Wire[] | undefined;
    if (!Array.isArray(outputsIn) || outputsIn.length === 0) throw new PlanError(`${where}: at least one output is required.`);
    const outputs = outputsIn.map((o, oi): OutputSpec => {
      const ow = `${where}.outputs[${oi}]`;
      const modifier = typeof o.nameModifier === 'string' ? o.nameModifier : '';
      if (!/^[A-Za-z0-9_.=-]*$/.test(modifier)) throw new PlanError(`${ow}: nameModifier "${modifier}" has characters vidpipe local does not put in file names.`);
      const container = o.containerSettings?.container;
      const vd = o.videoDescription as Wire | undefined;
      if (kind === 'HLS_GROUP') {
        if (container !== 'M3U8') throw new PlanError(`${ow}: HLS outputs use the M3U8 container, not ${container}.`);
        if (!vd) throw new PlanError(`${ow}: vidpipe local needs a video description in each HLS output.`);
        const video = videoSpec(vd, ow);
        const audio = audioSpec(o.audioDescriptions, ow);
        return { kind: 'hls', name: `${base}${modifier}`, video, ...(audio ? { audio } : {}), bitrate: video.bitrate + (audio?.bitrate ?? 0) };
      }
      if (vd?.codecSettings?.codec === 'FRAME_CAPTURE') {
        if (container !== 'RAW') throw new PlanError(`${ow}: frame capture uses the RAW container, not ${container}.`);
        const f = (vd.codecSettings.frameCaptureSettings ?? {}) as Wire;
        const everyNum = num(f.framerateNumerator, 1);
        const everyDen = num(f.framerateDenominator, 5);
        if (everyNum <= 0 || everyDen <= 0) throw new PlanError(`${ow}: the frame capture rate must be positive.`);
        return {
          kind: 'frames',
          name: `${base}${modifier}`,
          everyNum,
          everyDen,
          max: num(f.maxCaptures, 10_000_000),
          quality: num(f.quality, 80),
          ...(typeof vd.width === 'number' ? { width: vd.width } : {}),
          ...(typeof vd.height === 'number' ? { height: vd.height } : {}),
        };
      }
      if (container !== 'MP4') throw new PlanError(`${ow}: vidpipe local writes MP4 or frame-capture file outputs, not ${container ?? 'no container'}.`);
      if (!vd) throw new PlanError(`${ow}: vidpipe local needs a video description in each MP4 output.`);
      const audio = audioSpec(o.audioDescriptions, ow);
      return { kind: 'mp4', name: `${base}${modifier}`, video: videoSpec(vd, ow), ...(audio ? { audio } : {}) };
    });
    return { type: kind, ...(g.customName ? { customName: g.customName } : {}), destination: { bucket: dest.bucket, prefix }, base, segmentLength, outputs };
  });
  // MediaConvert refuses a job whose only outputs are frame captures (file-group-with-frame-capture-output.html).
  if (groups.every((g) => g.outputs.every((o) => o.kind === 'frames')))
    throw new PlanError('A job needs an audio/video output besides frame capture (MediaConvert does not run frame-capture-only jobs).');
  return { input, groups };
}

export interface FfmpegPlan {
  args: string[];
  /** Files ffmpeg writes, relative to the work dir's out/ folder, by group and output (frames and HLS are patterns). */
  outDir: string;
}

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

/** Local path (under outDir) of an output group's folder: out/<bucket>/<prefix>. */
export function groupDir(outDir: string, g: GroupSpec): string {
  return path.join(outDir, g.destination.bucket, ...g.destination.prefix.split('/').filter(Boolean));
}

function sizeOf(o: { width?: number; height?: number }, info: MediaInfo): { w: number; h: number } {
  const w = o.width ?? info.video!.width;
  const h = o.height ?? info.video!.height;
  return { w: even(w), h: even(h) };
}

/**
 * Fit inside the output frame keeping the aspect ratio, then letterbox/pillarbox to exactly the frame
 * (ScalingBehavior DEFAULT); even sizes, as 4:2:0 chroma needs.
 */
function scaleFilter(w: number, h: number): string {
  return `scale=${w}:${h}:force_original_aspect_ratio=decrease:force_divisible_by=2,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2,setsar=1`;
}

function videoArgs(v: VideoSpec, info: MediaInfo, preset: string | undefined): string[] {
  const fps = v.frameRate ? v.frameRate.num / v.frameRate.den : info.video!.frameRate || 25;
  const gop = v.gopUnits === 'SECONDS' ? Math.max(1, Math.round(v.gopSize * fps)) : Math.max(1, Math.round(v.gopSize));
  // CBR as x264 does it: the bitrate as target and ceiling, with a one-second-ish buffer.
  return [
    '-c:v', 'libx264',
    '-preset', preset ?? v.preset,
    '-profile:v', v.profile,
    '-pix_fmt', 'yuv420p',
    '-b:v', String(v.bitrate),
    '-maxrate', String(v.bitrate),
    '-bufsize', String(v.bitrate * 2),
    '-g', String(gop),
    '-bf', String(v.profile === 'baseline' ? 0 : v.bFrames),
    '-refs', String(v.refs),
    ...(v.frameRate ? ['-r', `${v.frameRate.num}/${v.frameRate.den}`] : []),
  ];
}

function audioArgs(a: AudioSpec): string[] {
  return ['-c:a', 'aac', '-b:a', String(a.bitrate), '-ar', String(a.sampleRate), '-ac', String(a.channels)];
}

/**
 * One ffmpeg command for the whole job. An input without audio gets silence in outputs that ask for audio (so every
 * HLS rendition and MP4 has the audio track its template describes).
 */
export function buildFfmpegArgs(spec: JobSpec, inputPath: string, info: MediaInfo, outDir: string, options: { preset?: string } = {}): string[] {
  if (!info.video) throw new PlanError('the input has no video stream');
  const outputs = spec.groups.flatMap((g) => g.outputs.map((o) => ({ g, o })));
  const needsSilence = !info.audio && outputs.some(({ o }) => o.kind !== 'frames' && o.audio);
  const args = ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-progress', 'pipe:1', '-nostats', '-i', inputPath];
  if (needsSilence) args.push('-f', 'lavfi', '-t', String(Math.max(info.durationMs, 1) / 1000), '-i', 'anullsrc=r=48000:cl=stereo');
  const labels = outputs.map((_, i) => `s${i}`);
  const filters: string[] = [outputs.length === 1 ? `[0:v:0]null[s0]` : `[0:v:0]split=${outputs.length}${labels.map((l) => `[${l}]`).join('')}`];
  outputs.forEach(({ o }, i) => {
    const { w, h } = sizeOf(o.kind === 'frames' ? o : o.video, info);
    if (o.kind === 'frames') {
      const every = o.everyDen / o.everyNum;
      // The first frame, then the first frame at least `every` seconds after the last one taken: 0, 5, 10 … s, as
      // MediaConvert captures (the fps filter would drop the capture at 0 s of a clip shorter than the interval).
      filters.push(`[s${i}]select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,${every})',${scaleFilter(w, h)}[v${i}]`);
    } else filters.push(`[s${i}]${scaleFilter(w, h)},format=yuv420p[v${i}]`);
  });
  args.push('-filter_complex', filters.join(';'));
  const audioIn = info.audio ? '0:a:0' : '1:a:0';
  outputs.forEach(({ g, o }, i) => {
    const dir = groupDir(outDir, g);
    args.push('-map', `[v${i}]`);
    if (o.kind === 'frames') {
      // Quality 1-100 → JPEG qscale 31-2 (lower is better).
      const q = Math.round(2 + ((100 - Math.min(100, Math.max(1, o.quality))) * 29) / 99);
      args.push('-fps_mode', 'vfr', '-c:v', 'mjpeg', '-q:v', String(q), '-frames:v', String(o.max), '-f', 'image2', '-start_number', '0', path.join(dir, `${o.name}.%07d.jpg`));
      return;
    }
    if (o.audio) args.push('-map', audioIn);
    args.push(...videoArgs(o.video, info, options.preset), ...(o.audio ? audioArgs(o.audio) : []));
    if (needsSilence && o.audio) args.push('-shortest');
    if (o.kind === 'mp4') args.push('-movflags', '+faststart', '-f', 'mp4', path.join(dir, `${o.name}.mp4`));
    else
      args.push(
        '-f', 'hls',
        '-hls_time', String(g.segmentLength),
        '-hls_playlist_type', 'vod',
        '-hls_flags', 'independent_segments',
        '-start_number', '1',
        '-hls_segment_filename', path.join(dir, `${o.name}_%05d.ts`),
        path.join(dir, `${o.name}.m3u8`),
      );
  });
  return args;
}
