/** Test inputs: files that pass vidpipe's video checks (a valid MP4 `ftyp` box, then random bytes) and ones that do not. */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/** An ISO BMFF `ftyp` box: size 24, brand isom, minor version 0x200, compatible brands isom, mp41. */
export const MP4_FTYP = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypisom'), Buffer.from([0, 0, 2, 0]), Buffer.from('isommp41')]);

/** Writes `size` bytes (ftyp + random) in 1 MiB chunks; returns the sha256 hex of what was written. */
export async function writeFakeMp4(file: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(file);
  let written = 0;
  while (written < size) {
    const chunk = written === 0 ? Buffer.concat([MP4_FTYP, randomBytes(Math.min(size, 1 << 20) - MP4_FTYP.length)]) : randomBytes(Math.min(1 << 20, size - written));
    hash.update(chunk);
    written += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return hash.digest('hex');
}
