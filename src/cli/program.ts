/**
 * The commander program and its global options. Each verb lives in commands/<verb>.ts and registers itself here;
 * a verb's heavy modules (fastify, the AWS SDK) are imported inside its action, so `vidpipe --help` loads none of them.
 */
import { Command, Option } from 'commander';
import { packageInfo } from '../util/package-root.js';
import { registerCommands } from './commands/index.js';

export function buildProgram(): Command {
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
  program.configureHelp({ sortSubcommands: false, showGlobalOptions: true });
  registerCommands(program);
  // Settings of the root are not inherited by subcommands made with `new Command()` and addCommand (upload): copy
  // them to each, so every verb's --help lists the global options and every verb's errors go the same way.
  for (const cmd of program.commands) cmd.copyInheritedSettings(program);
  return program;
}
