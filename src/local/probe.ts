/**
 * ffprobe → what MediaConvert reports about an input (INPUT_INFORMATION's inputDetails) and about an output
 * (COMPLETE's durationInMs, widthInPx, heightInPx).
 */
import type { InputDetail } from '../events/types.js';
import { runProcess } from './ffmpeg.js';

export interface VideoStreamInfo {
  index: number;
  codec: string;
  width: number;
  height: number;
  frameRate: number;
  pixFmt?: string;
  profile?: string;
  level?: number;
  bitDepth: number;
  frames?: number;
  sar?: string;
}

export interface AudioStreamInfo {
  index: number;
  codec: string;
  channels: number;
  sampleRate: number;
  language?: string;
}

export interface MediaInfo {
  formatName: string;
  durationMs: number;
  size: number;
  video?: VideoStreamInfo;
  audio?: AudioStreamInfo;
}

export class ProbeFailed extends Error {}

interface FfprobeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  pix_fmt?: string;
  profile?: string;
  level?: number;
  nb_frames?: string;
  sample_aspect_ratio?: string;
  channels?: number;
  sample_rate?: string;
  duration?: string;
  bits_per_raw_sample?: string;
  tags?: { language?: string };
  disposition?: { attached_pic?: number };
}

function rate(text: string | undefined): number {
  if (!text) return 0;
  const [n, d] = text.split('/').map(Number);
  if (!n || !d) return 0;
  return Math.round((n / d) * 1000) / 1000;
}

export async function probe(ffprobe: string, file: string): Promise<MediaInfo> {
  const r = await runProcess(ffprobe, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]);
  if (r.code !== 0) throw new ProbeFailed(r.stderr.trim().split('\n').at(-1) || `ffprobe exited ${r.code}`);
  let data: { format?: { format_name?: string; duration?: string; size?: string }; streams?: FfprobeStream[] };
  try {
    data = JSON.parse(r.stdout);
  } catch {
    throw new ProbeFailed('ffprobe printed no JSON');
  }
  const streams = data.streams ?? [];
  // An attached picture (cover art) is a "video" stream with one frame; it is not the video.
  const v = streams.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  const a = streams.find((s) => s.codec_type === 'audio');
  const durations = [data.format?.duration, v?.duration, a?.duration].map((d) => Number(d)).filter((d) => Number.isFinite(d) && d > 0);
  const durationMs = durations.length ? Math.round(durations[0]! * 1000) : 0;
  return {
    formatName: data.format?.format_name ?? 'unknown',
    durationMs,
    size: Number(data.format?.size ?? 0),
    ...(v && v.width && v.height
      ? {
          video: {
            index: v.index,
            codec: v.codec_name ?? 'unknown',
            width: v.width,
            height: v.height,
            frameRate: rate(v.avg_frame_rate) || rate(v.r_frame_rate),
            ...(v.pix_fmt ? { pixFmt: v.pix_fmt } : {}),
            ...(v.profile ? { profile: v.profile } : {}),
            ...(typeof v.level === 'number' ? { level: v.level } : {}),
            bitDepth: Number(v.bits_per_raw_sample) || (v.pix_fmt && /10/.test(v.pix_fmt) ? 10 : 8),
            ...(v.nb_frames && Number(v.nb_frames) > 0 ? { frames: Number(v.nb_frames) } : {}),
            ...(v.sample_aspect_ratio && v.sample_aspect_ratio !== '0:1' ? { sar: v.sample_aspect_ratio } : {}),
          },
        }
      : {}),
    ...(a
      ? {
          audio: {
            index: a.index,
            codec: a.codec_name ?? 'unknown',
            channels: a.channels ?? 0,
            sampleRate: Number(a.sample_rate ?? 0),
            ...(a.tags?.language ? { language: a.tags.language } : {}),
          },
        }
      : {}),
  };
}

/** ffprobe codec names → MediaConvert's (INPUT_INFORMATION uses H_264, AAC …). */
const CODEC_NAMES: Record<string, string> = {
  h264: 'H_264',
  hevc: 'H_265',
  mpeg2video: 'MPEG2',
  prores: 'PRORES',
  vp8: 'VP8',
  vp9: 'VP9',
  av1: 'AV1',
  mjpeg: 'MJPEG',
  aac: 'AAC',
  mp3: 'MP3',
  ac3: 'AC3',
  eac3: 'EAC3',
  opus: 'OPUS',
  vorbis: 'VORBIS',
  flac: 'FLAC',
  pcm_s16le: 'PCM',
  pcm_s24le: 'PCM',
};

const mcCodec = (name: string) => CODEC_NAMES[name] ?? name.toUpperCase();

/** INPUT_INFORMATION's inputDetails, in the shape of AWS's sample (aws-facts §2, ev_status_input_information). */
export function inputDetailsOf(info: MediaInfo, uri: string): InputDetail[] {
  return [
    {
      id: 1,
      uri,
      audio: info.audio
        ? [{ channels: info.audio.channels, codec: mcCodec(info.audio.codec), language: (info.audio.language ?? 'UND').toUpperCase(), sampleRate: info.audio.sampleRate, streamId: info.audio.index + 1 }]
        : [],
      video: info.video
        ? [
            {
              bitDepth: info.video.bitDepth,
              codec: mcCodec(info.video.codec),
              colorFormat: info.video.pixFmt?.startsWith('yuv444') ? 'YUV_444' : info.video.pixFmt?.startsWith('yuv422') ? 'YUV_422' : 'YUV_420',
              fourCC: info.video.codec === 'h264' ? 'avc1' : info.video.codec === 'hevc' ? 'hvc1' : info.video.codec,
              frameRate: info.video.frameRate,
              height: info.video.height,
              interlaceMode: 'PROGRESSIVE',
              sar: info.video.sar ?? '1:1',
              standard: 'UNSPECIFIED',
              streamId: info.video.index + 1,
              width: info.video.width,
            },
          ]
        : [],
    },
  ];
}

/** RFC 6381 codec string for an H.264 stream (the master playlist's CODECS): avc1.<profile><constraints><level>. */
export function avcCodecString(profile: string | undefined, level: number | undefined): string {
  const p = (profile ?? 'Main').toLowerCase();
  const head = p.includes('high') ? '6400' : p.includes('baseline') ? '42e0' : '4d40';
  return `avc1.${head}${(level ?? 31).toString(16).padStart(2, '0')}`;
}
