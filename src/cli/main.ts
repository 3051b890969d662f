/**
 * argv → run → exit code. The only place that sets process.exitCode (ARCHITECTURE convention 4).
 */
import { CommanderError } from './commander.js';
import { ExitCode, isVidpipeError } from '../errors.js';
import { buildProgram } from './program.js';

export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
  // `vidpipe` alone asks what it can do: the help, on stdout, exit 0 (commander would print it to stderr, exit 1).
  if (argv.length <= 2) {
    program.outputHelp();
    return ExitCode.ok;
  }
  try {
    await program.parseAsync(argv);
    return ExitCode.ok;
  } catch (err) {
    const globals = program.opts();
    // A usage error can stop commander before it stored --json: the flag anywhere before "--" counts.
    const args = argv.slice(2);
    const end = args.indexOf('--');
    const json = Boolean(globals.json) || (end === -1 ? args : args.slice(0, end)).includes('--json');
    return await reportError(err, { ...globals, json }, args, program.commands.map((c) => c.name()));
  }
}

/** commander.unknownOption → UNKNOWN_OPTION */
function commanderCode(code: string): string {
  return code.replace(/^commander\./, '').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
}

function writeJsonError(error: { code: string; message: string; hint?: string | undefined; [k: string]: unknown }): void {
  process.stdout.write(`${JSON.stringify({ error }, null, 2)}\n`);
}

async function reportError(err: unknown, globals: Record<string, unknown>, args: string[] = [], verbs: string[] = []): Promise<number> {
  if (err instanceof CommanderError) {
    // commander already printed its message (or the help/version text) on stderr.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return ExitCode.ok;
    if (err.exitCode === 0) return ExitCode.ok;
    if (globals.json) {
      const verb = args.find((a) => verbs.includes(a));
      writeJsonError({
        code: commanderCode(err.code),
        message: err.message.replace(/^error:\s*/, ''),
        hint: `Run \`vidpipe ${verb ? `${verb} ` : ''}--help\` for the ${verb ? 'options' : 'verbs'}.`,
        exitCode: ExitCode.usage,
      });
    }
    return ExitCode.usage;
  }
  // Loaded here, not at the top: `vidpipe --help` (a CommanderError above) needs neither it nor chalk (issue 17).
  const { Output } = await import('../output/output.js');
  // commander's default for --no-color is color=true, which means "auto" here (as in commandContext), not "force".
  const out = new Output({ json: Boolean(globals.json), color: globals.color === false ? false : undefined });
  if (isVidpipeError(err)) {
    if (out.json && !err.resultPrinted) writeJsonError({ code: err.code, message: err.message, hint: err.hint, exitCode: err.exitCode, ...(err.details ?? {}) });
    out.error(err.message, err.hint);
    if (globals.verbose && err.cause) out.debug(String((err.cause as Error)?.stack ?? err.cause));
    return err.exitCode;
  }
  if (out.json)
    writeJsonError({ code: 'INTERNAL', message: (err as Error)?.message ?? String(err), hint: 'This is a bug in vidpipe; run with --verbose for the stack trace.', exitCode: ExitCode.internal });
  out.error(`internal error: ${(err as Error)?.message ?? String(err)}`, 'This is a bug in vidpipe; run with --verbose for the stack trace.');
  if (globals.verbose) out.debug(String((err as Error)?.stack ?? err));
  return ExitCode.internal;
}

export async function run(argv: string[]): Promise<void> {
  // The SDK warns on every run that releases after January 2027 need Node 22; vidpipe supports Node 20 until then.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.exitCode = await main(argv);
}
