/**
 * The commander program and its global options. Each verb lives in commands/<verb>.ts; a run registers only the verb
 * it names (its module, and inside its action its heavy modules: fastify, the AWS SDK), and a run that names none
 * (`vidpipe`, `vidpipe --help`, a misspelt verb) lists every verb from commands/index.ts without loading any.
 */
import { Command, Help, Option } from './commander.js';
import { packageInfo } from '../util/package-root.js';
import { VERBS, registerCommands, termOf } from './commands/index.js';

/** Global options that take a value: the token after them is not a verb. */
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['-c', '--config']);

/**
 * The verb a command line runs: the first word that is not a global option (or its value); `help <verb>` counts as
 * the verb. Undefined when there is none, or it is not a verb.
 */
export function verbOf(argv: readonly string[]): string | undefined {
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') return undefined;
    if (GLOBAL_OPTIONS_WITH_VALUE.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    const word = a === 'help' ? args[i + 1] : a;
    return VERBS.some((v) => v.name === word) ? word : undefined;
  }
  return undefined;
}

/**
 * `argv`: the command line, to register only the verb it runs. Without it (tests) every verb is registered in full.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command('vidpipe')
    .description('Provision, drive and listen to an AWS MediaConvert video pipeline.')
    .version(packageInfo().version, '-V, --version', 'print the version')
    .option('--json', 'print the result as one JSON document on stdout')
    .addOption(new Option('-v, --verbose', 'more detail on stderr').conflicts('quiet'))
    .option('-q, --quiet', 'only errors and results')
    .option('--no-color', 'no colours (NO_COLOR also works)')
    .option('-c, --config <path>', 'the config file (default: ./vidpipe.config.json)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  const verb = argv ? verbOf(argv) : undefined;
  if (verb) (await (VERBS.find((v) => v.name === verb) as (typeof VERBS)[number]).load())(program);
  else if (argv) {
    // Each verb as its name and summary only: the root help's list, and commander's "did you mean" for a misspelt verb.
    for (const v of VERBS) program.command(v.name).description(v.summary);
  } else await registerCommands(program);
  const terms = new Map(verb || !argv ? [] : VERBS.map((v) => [v.name, termOf(v)]));
  program.configureHelp({
    sortSubcommands: false,
    showGlobalOptions: true,
    // The listed verbs are not registered in full: write their usage as the registered verb's would be.
    subcommandTerm: (cmd) => terms.get(cmd.name()) ?? new Help().subcommandTerm(cmd),
  });
  // Settings of the root are not inherited by subcommands made with `new Command()` and addCommand (upload): copy
  // them to each, so every verb's --help lists the global options and every verb's errors go the same way.
  for (const cmd of program.commands) cmd.copyInheritedSettings(program);
  return program;
}
