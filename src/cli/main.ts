/**
 * argv → run → exit code. The only place that sets process.exitCode (ARCHITECTURE convention 4).
 */
import { CommanderError } from 'commander';
import { ExitCode, isVidpipeError } from '../errors.js';
import { Output } from '../output/output.js';
import { buildProgram } from './program.js';

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return ExitCode.ok;
  } catch (err) {
    return reportError(err, program.opts());
  }
}

function reportError(err: unknown, globals: Record<string, unknown>): number {
  // commander's default for --no-color is color=true, which means "auto" here (as in commandContext), not "force".
  const out = new Output({ json: Boolean(globals.json), color: globals.color === false ? false : undefined });
  if (err instanceof CommanderError) {
    // commander already printed its message (or the help/version text).
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return ExitCode.ok;
    return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (isVidpipeError(err)) {
    if (out.json && !err.resultPrinted) {
      process.stdout.write(
        `${JSON.stringify({ error: { code: err.code, message: err.message, hint: err.hint, ...(err.details ?? {}) } }, null, 2)}\n`,
      );
    }
    out.error(err.message, err.hint);
    if (globals.verbose && err.cause) out.debug(String((err.cause as Error)?.stack ?? err.cause));
    return err.exitCode;
  }
  out.error(`internal error: ${(err as Error)?.message ?? String(err)}`, 'This is a bug in vidpipe; run with --verbose for the stack trace.');
  if (globals.verbose) out.debug(String((err as Error)?.stack ?? err));
  return ExitCode.internal;
}

export async function run(argv: string[]): Promise<void> {
  // The SDK warns on every run that releases after January 2027 need Node 22; vidpipe supports Node 20 until then.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.exitCode = await main(argv);
}
