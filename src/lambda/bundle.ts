/**
 * Bundles the Lambda handler and its npm libraries (the AWS SDK clients included: AWS recommends shipping your own
 * SDK rather than relying on the runtime's copy) into one CommonJS file, zipped in memory. The zip is byte-for-byte
 * reproducible (fixed file times and attributes), so `setup` compares its hash with the function's CodeSha256 and
 * uploads code only when the handler changed.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The runtime the function is created with; nodejs20.x is deprecated on 30 Apr 2026 (aws-facts.md §5). */
export const LAMBDA_RUNTIME = 'nodejs22.x';
/** The zip's one file and the function's Handler setting. */
export const LAMBDA_ENTRY_FILE = 'index.js';
export const LAMBDA_HANDLER = 'index.handler';

// DOS timestamps start in 1980; any fixed time makes the archive reproducible.
const FIXED_MTIME = new Date('2020-01-01T00:00:00Z');

export interface LambdaBundle {
  zip: Buffer;
  /** base64 sha256 of the zip: the form Lambda reports as CodeSha256. */
  sha256: string;
  /** Size of the bundled JavaScript. */
  codeBytes: number;
}

/** The handler's source: the compiled .js next to this file in dist/, the .ts when run from source (tests). */
export function handlerEntryPoint(): string {
  for (const name of ['handler.js', 'handler.ts']) {
    const file = fileURLToPath(new URL(`./${name}`, import.meta.url));
    if (existsSync(file)) return file;
  }
  throw new Error('vidpipe: the Lambda handler source (src/lambda/handler) is missing from the package');
}

export async function bundleLambda(entryPoint = handlerEntryPoint()): Promise<LambdaBundle> {
  const [{ build }, { zipSync }] = await Promise.all([import('esbuild'), import('fflate')]);
  const result = await build({
    entryPoints: [entryPoint],
    bundle: true,
    platform: 'node',
    target: 'node22',
    // CommonJS: the SDK's CommonJS builds require() Node built-ins, which an ESM bundle cannot do.
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
    outfile: LAMBDA_ENTRY_FILE,
  });
  const js = result.outputFiles.find((f) => f.path.endsWith(`/${LAMBDA_ENTRY_FILE}`) || f.path === LAMBDA_ENTRY_FILE) ?? result.outputFiles[0];
  if (!js) throw new Error('esbuild produced no output for the Lambda handler');
  // os 3 (Unix) with mode 0644 in the high 16 bits: readable by the Lambda runtime's user.
  const zip = Buffer.from(zipSync({ [LAMBDA_ENTRY_FILE]: [js.contents, { mtime: FIXED_MTIME, os: 3, attrs: 0o100644 << 16, level: 9 }] }));
  return { zip, sha256: createHash('sha256').update(zip).digest('base64'), codeBytes: js.contents.byteLength };
}
