import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentTypeFor, detectContainer, inspectVideoFile } from '../../src/upload/media-file.js';
import { MP4_FTYP } from '../helpers/video-files.js';

const pad = (b: Buffer, n = 1024) => Buffer.concat([b, Buffer.alloc(Math.max(0, n - b.length), 0x11)]);

describe('detectContainer', () => {
  it.each([
    ['MP4 ftyp isom', pad(MP4_FTYP), 'mp4'],
    ['QuickTime ftyp qt', pad(Buffer.concat([Buffer.from([0, 0, 0, 20]), Buffer.from('ftypqt  ')])), 'mov'],
    ['old QuickTime moov first', pad(Buffer.concat([Buffer.from([0, 0, 0, 8]), Buffer.from('moov')])), 'mov'],
    ['Matroska EBML', pad(Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x88]), Buffer.from('matroska')])), 'mkv'],
    ['WebM EBML', pad(Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x84]), Buffer.from('webm')])), 'webm'],
    ['AVI RIFF', pad(Buffer.concat([Buffer.from('RIFF'), Buffer.from([1, 2, 3, 4]), Buffer.from('AVI LIST')])), 'avi'],
    ['MPEG-PS pack header', pad(Buffer.from([0, 0, 1, 0xba, 0x44])), 'mpeg-ps'],
    ['FLV', pad(Buffer.from([0x46, 0x4c, 0x56, 0x01, 0x05])), 'flv'],
    ['ASF/WMV', pad(Buffer.from([0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11, 0xa6, 0xd9])), 'asf'],
    ['MXF', pad(Buffer.from([0x06, 0x0e, 0x2b, 0x34, 0x02, 0x05, 0x01, 0x01])), 'mxf'],
  ])('%s', (_name, bytes, container) => {
    expect(detectContainer(bytes)).toBe(container);
  });

  it('MPEG-TS: a 0x47 sync byte every 188 bytes (and every 192 in M2TS)', () => {
    const ts = Buffer.alloc(188 * 5, 0xff);
    for (let i = 0; i < 5; i++) ts[i * 188] = 0x47;
    expect(detectContainer(ts)).toBe('mpeg-ts');
    const m2ts = Buffer.alloc(192 * 5, 0xff);
    for (let i = 0; i < 5; i++) m2ts[4 + i * 192] = 0x47;
    expect(detectContainer(m2ts)).toBe('mpeg-ts');
    // One 0x47 at the start is not enough.
    const fake = Buffer.alloc(188 * 5, 0xff);
    fake[0] = 0x47;
    expect(detectContainer(fake)).toBeUndefined();
  });

  it('refuses text, images, archives and tiny files', () => {
    expect(detectContainer(pad(Buffer.from('hello world, not a video')))).toBeUndefined();
    expect(detectContainer(pad(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))).toBeUndefined(); // PNG
    expect(detectContainer(pad(Buffer.from('PK\x03\x04', 'latin1')))).toBeUndefined();
    expect(detectContainer(pad(Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WAVE')])))).toBeUndefined();
    expect(detectContainer(MP4_FTYP.subarray(0, 10))).toBeUndefined();
  });
});

describe('contentTypeFor', () => {
  it('uses the extension, else the container', () => {
    expect(contentTypeFor('a/b/Clip.MOV')).toBe('video/quicktime');
    expect(contentTypeFor('x.webm')).toBe('video/webm');
    expect(contentTypeFor('x.m2ts')).toBe('video/mp2t');
    expect(contentTypeFor('x.bin', 'mkv')).toBe('video/x-matroska');
    expect(contentTypeFor('x.bin')).toBe('application/octet-stream');
  });
});

describe('inspectVideoFile', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vidpipe-media-'));
  it('accepts a video and reports size, container and type', async () => {
    const file = path.join(dir, 'ok.mp4');
    writeFileSync(file, pad(MP4_FTYP, 5000));
    expect(await inspectVideoFile(file)).toEqual({ path: file, size: 5000, container: 'mp4', contentType: 'video/mp4' });
  });
  it.each([
    ['missing', () => path.join(dir, 'missing.mp4'), 'FILE_NOT_FOUND', /missing\.mp4: no such file/],
    ['a directory', () => (mkdirSync(path.join(dir, 'd.mp4'), { recursive: true }), path.join(dir, 'd.mp4')), 'NOT_A_FILE', /is not a regular file/],
    ['empty', () => (writeFileSync(path.join(dir, 'e.mp4'), ''), path.join(dir, 'e.mp4')), 'FILE_EMPTY', /is empty/],
    ['not a video', () => (writeFileSync(path.join(dir, 'n.mp4'), pad(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))), path.join(dir, 'n.mp4')), 'NOT_A_VIDEO', /does not look like a video file \(it starts with bytes ff d8 ff e0/],
  ])('%s → a usage error (exit 2)', async (_name, make, code, message) => {
    await expect(inspectVideoFile(make())).rejects.toMatchObject({ code, exitCode: 2, message: expect.stringMatching(message) });
  });
  it.skipIf(process.getuid?.() === 0)('unreadable → a usage error', async () => {
    const file = path.join(dir, 'locked.mp4');
    writeFileSync(file, pad(MP4_FTYP));
    chmodSync(file, 0o000);
    await expect(inspectVideoFile(file)).rejects.toMatchObject({ code: 'FILE_UNREADABLE', exitCode: 2 });
  });
});
