/**
 * `vidpipe teardown`: deletes what setup created, dependents first. Buckets stay unless --delete-buckets, which
 * empties them (every object version) after its own confirmation. Destructive: without a terminal it needs --yes.
 */
import type { Command } from 'commander';
import { VidpipeError } from '../../errors.js';
import { addAwsOptions, awsOptionsFrom, awsTargetFrom, commandContext } from '../context.js';
import { summaryOf } from './index.js';

export function registerTeardown(program: Command): void {
  const cmd = program
    .command('teardown')
    .description(summaryOf('teardown'))
    .option('-y, --yes', 'delete without asking')
    .option('--delete-buckets', 'also empty (all object versions) and delete the input and output buckets')
    .option('--keep-logs', "keep the upload trigger's log group (/aws/lambda/<app>-upload-trigger) and its logs");
  addAwsOptions(cmd).action(async (opts: Record<string, unknown>, command: Command) => {
    const { globals, out } = commandContext(command);
    const { requireConfig } = await import('../../config/config.js');
    const service = await import('../../provision/service.js');
    const { changesIn } = await import('../../provision/plan.js');
    const render = await import('../../provision/render.js');
    const { openAwsSession } = await import('../aws-session.js');
    const run = await import('../provision-run.js');
    const { confirm, promptContext } = await import('../../output/prompt.js');

    const config = await requireConfig(globals.configPath);
    const session = openAwsSession(awsTargetFrom(awsOptionsFrom(opts), config.region), out);
    try {
      const observation = await run.observeWithProgress({ config, configPath: globals.configPath, aws: session.aws }, out);
      const plan = service.planTeardown(observation, Boolean(opts.deleteBuckets), Boolean(opts.keepLogs));
      const deletes = changesIn(plan);
      const target = run.runTarget(session, observation);
      if (!out.json) out.info(render.renderTarget(target, out.ec));
      if (!deletes.length) {
        out.result({ target, plan, results: [] }, (c) => render.renderPlan(plan, c, 'Teardown'));
        return;
      }
      if (!out.json) out.info(render.renderPlan(plan, out.ec, 'Teardown'));
      const prompts = promptContext(Boolean(opts.yes), out.json);
      const ok = await confirm(prompts, `Delete these ${deletes.length} resource(s)`, { destructive: true, flag: '--yes' });
      if (!ok) return out.warn('Nothing was deleted.');
      const buckets = deletes.filter((s) => s.kind === 'S3 bucket');
      if (buckets.length) {
        const emptyOk = await confirm(prompts, `Empty and delete the buckets ${buckets.map((b) => b.name).join(', ')} with every object version in them`, {
          destructive: true,
          flag: '--yes',
        });
        if (!emptyOk) return out.warn('Nothing was deleted.');
      }
      const applied = await run.applyWithProgress(observation, plan, session, out);
      const doc = { target, plan, results: applied.results, awsCalls: session.calls(), ms: session.elapsed() };
      if (applied.failed.length) {
        if (!out.json) out.result(doc, (c) => render.renderResults(applied.results, c));
        const first = applied.firstError;
        throw new VidpipeError('TEARDOWN_INCOMPLETE', `${applied.failed.length} deletion(s) failed: ${applied.failed.map((f) => `${f.resource}: ${f.error}`).join('; ')}`, {
          hint: 'Fix the cause and run `vidpipe teardown` again: it continues with what is left.',
          exitCode: first instanceof VidpipeError ? first.exitCode : 1,
          cause: first,
          details: { results: applied.results },
          resultPrinted: !out.json,
        });
      }
      out.result(doc, (c) => [render.renderResults(applied.results, c), ...plan.notes.map((n) => c.dim(`note: ${n}`))].join('\n'));
      out.success(`Teardown complete: ${deletes.length} resource(s) deleted.`);
    } finally {
      session.close();
    }
  });
}
