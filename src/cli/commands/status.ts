/** `vidpipe status`: every resource ok / missing / drifted, with connection, destination and alarm states and the DLQ depth; exit 4 if anything is not ok. */
import type { Command } from 'commander';
import { ExitCode, VidpipeError } from '../../errors.js';
import { addAwsOptions, awsOptionsFrom, awsTargetFrom, commandContext } from '../context.js';
import { summaryOf } from './index.js';

export function registerStatus(program: Command): void {
  const cmd = program.command('status').description(summaryOf('status'));
  addAwsOptions(cmd).action(async (opts: Record<string, unknown>, command: Command) => {
    const { globals, out } = commandContext(command);
    const { requireConfig } = await import('../../config/config.js');
    const service = await import('../../provision/service.js');
    const { renderStatus, renderTarget } = await import('../../provision/render.js');
    const run = await import('../provision-run.js');
    const { openAwsSession } = await import('../aws-session.js');

    const config = await requireConfig(globals.configPath);
    service.checkListenerUrl(config);
    const session = openAwsSession(awsTargetFrom(awsOptionsFrom(opts), config.region), out);
    try {
      const observation = await run.observeWithProgress({ config, configPath: globals.configPath, aws: session.aws }, out);
      const plan = service.planSetup(observation);
      const resources = service.statusRows(observation, plan);
      const bad = resources.filter((r) => r.status !== 'ok');
      const target = run.runTarget(session, observation);
      if (!out.json) out.info(renderTarget(target, out.ec));
      out.result({ ok: bad.length === 0, target, resources, notes: plan.notes }, (c) => renderStatus(resources, plan.notes, c));
      out.debug(`${session.calls()} AWS calls in ${session.elapsed()} ms`);
      if (bad.length)
        throw new VidpipeError('NOT_IN_SYNC', `${bad.length} resource(s) missing or drifted: ${bad.map((r) => r.name).join(', ')}`, {
          hint: 'Run `vidpipe setup` to create or repair them (`vidpipe setup --plan` shows what it would do).',
          exitCode: ExitCode.drift,
          resultPrinted: true,
        });
    } finally {
      session.close();
    }
  });
}
