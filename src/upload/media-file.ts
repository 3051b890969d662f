/**
 * Checks a file before any byte is uploaded: it exists, is a readable regular file, and its first bytes look like a
 * video container MediaConvert reads. The magic numbers are the containers' own signatures (ISO BMFF `ftyp` box,
 * EBML header, RIFF/AVI, MPEG-TS sync bytes, MPEG-PS pack header, FLV, ASF GUID, MXF SMPTE key).
 */
import { constants } from 'node:fs';
import { access, open, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';

export type Container = 'mp4' | 'mov' | 'mkv' | 'webm' | 'avi' | 'mpeg-ts' | 'mpeg-ps' | 'flv' | 'asf' | 'mxf';

export interface VideoFile {
  path: string;
  size: number;
  container: Container;
  contentType: string;
}

/** How many leading bytes detection reads: enough for 5 MPEG-TS packets of 192 bytes (M2TS). */
export const SNIFF_BYTES = 1024;
/** S3's largest object: 5 TiB. */
export const MAX_OBJECT_BYTES = 5 * 1024 ** 4;

const CONTENT_TYPES: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.m4v': 'video/x-m4v',
  '.mov': 'video/quicktime',
  '.qt': 'video/quicktime',
  '.3gp': 'video/3gpp',
  '.3g2': 'video/3gpp2',
  '.mkv': 'video/x-matroska',
  '.webm': 'video/webm',
  '.avi': 'video/x-msvideo',
  '.ts': 'video/mp2t',
  '.m2ts': 'video/mp2t',
  '.mts': 'video/mp2t',
  '.mpg': 'video/mpeg',
  '.mpeg': 'video/mpeg',
  '.vob': 'video/mpeg',
  '.flv': 'video/x-flv',
  '.f4v': 'video/mp4',
  '.wmv': 'video/x-ms-wmv',
  '.asf': 'video/x-ms-asf',
  '.mxf': 'application/mxf',
};

const CONTAINER_TYPES: Record<Container, string> = {
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  mkv: 'video/x-matroska',
  webm: 'video/webm',
  avi: 'video/x-msvideo',
  'mpeg-ts': 'video/mp2t',
  'mpeg-ps': 'video/mpeg',
  flv: 'video/x-flv',
  asf: 'video/x-ms-asf',
  mxf: 'application/mxf',
};

/** Content-Type from the extension, else from the detected container. */
export function contentTypeFor(file: string, container?: Container): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? (container ? CONTAINER_TYPES[container] : 'application/octet-stream');
}

const ascii = (b: Buffer, start: number, end: number) => b.subarray(start, end).toString('latin1');

/** MPEG-TS: a 0x47 sync byte at the start of every packet (188 bytes; 192 in M2TS, after a 4-byte timecode). */
function isTransportStream(b: Buffer): boolean {
  for (const [offset, packet] of [[0, 188], [4, 192]] as const) {
    const packets = Math.min(5, Math.floor((b.length - offset) / packet));
    if (packets >= 2 && Array.from({ length: packets }, (_, i) => b[offset + i * packet]).every((x) => x === 0x47)) return true;
  }
  return false;
}

export function detectContainer(b: Buffer): Container | undefined {
  if (b.length < 12) return undefined;
  // ISO BMFF / QuickTime: a box size, then its type. `ftyp` first in MP4; old QuickTime files start with other atoms.
  const box = ascii(b, 4, 8);
  if (box === 'ftyp') return ascii(b, 8, 12) === 'qt  ' ? 'mov' : 'mp4';
  if (['moov', 'mdat', 'wide', 'free', 'skip', 'pnot'].includes(box)) return 'mov';
  // EBML header; the DocType says WebM or Matroska.
  if (b.readUInt32BE(0) === 0x1a45dfa3) return ascii(b, 0, 64).includes('webm') ? 'webm' : 'mkv';
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'AVI ') return 'avi';
  if (isTransportStream(b)) return 'mpeg-ts';
  // MPEG program stream pack header (00 00 01 BA), or an MPEG-1/2 video sequence header (00 00 01 B3).
  if (b.readUInt32BE(0) === 0x000001ba || b.readUInt32BE(0) === 0x000001b3) return 'mpeg-ps';
  if (ascii(b, 0, 3) === 'FLV' && b[3] === 0x01) return 'flv';
  if (b.subarray(0, 8).equals(Buffer.from([0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11]))) return 'asf';
  if (b.readUInt32BE(0) === 0x060e2b34) return 'mxf';
  return undefined;
}

function describeStart(b: Buffer): string {
  const text = ascii(b, 0, 16);
  if (/^[\x09\x0a\x0d\x20-\x7e]+$/.test(text)) return `text ("${text.replace(/\s+/g, ' ').trim().slice(0, 12)}…")`;
  return `bytes ${b.subarray(0, 8).toString('hex').replace(/(..)/g, '$1 ').trim()}`;
}

/** Stats, opens and sniffs the file; a clear UsageError (exit 2) for each way it can be wrong. */
export async function inspectVideoFile(file: string): Promise<VideoFile> {
  const abs = path.resolve(file);
  let st;
  try {
    st = await stat(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UsageError('FILE_NOT_FOUND', `${file}: no such file.`, { hint: 'Check the path.' });
    throw new UsageError('FILE_UNREADABLE', `${file}: cannot read it (${code ?? (err as Error).message}).`);
  }
  if (!st.isFile()) throw new UsageError('NOT_A_FILE', `${file} is not a regular file.`, { hint: 'Pass a video file, not a directory or a device.' });
  if (st.size === 0) throw new UsageError('FILE_EMPTY', `${file} is empty.`);
  if (st.size > MAX_OBJECT_BYTES) throw new UsageError('FILE_TOO_LARGE', `${file} is larger than S3's 5 TiB object limit.`);
  try {
    await access(abs, constants.R_OK);
  } catch {
    throw new UsageError('FILE_UNREADABLE', `${file}: permission denied.`, { hint: 'Check the file permissions.' });
  }
  const head = Buffer.alloc(Math.min(SNIFF_BYTES, st.size));
  const fh = await open(abs, 'r');
  try {
    await fh.read(head, 0, head.length, 0);
  } finally {
    await fh.close();
  }
  const container = detectContainer(head);
  if (!container)
    throw new UsageError('NOT_A_VIDEO', `${file} does not look like a video file (it starts with ${describeStart(head)}).`, {
      hint: 'vidpipe uploads video containers MediaConvert reads: MP4/MOV, MKV/WebM, AVI, MPEG-TS, MPEG-PS, FLV, WMV/ASF, MXF.',
      details: { file },
    });
  return { path: abs, size: st.size, container, contentType: contentTypeFor(abs, container) };
}
