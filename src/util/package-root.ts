import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: { root: string; version: string } | undefined;

/** The vidpipe package's root directory, from source (src/) or from the build (dist/src/). */
export function packageInfo(): { root: string; version: string } {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'vidpipe') return (cached = { root: dir, version: pkg.version ?? '0.0.0' });
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('vidpipe: cannot find its own package.json');
    dir = parent;
  }
}
