/**
 * `vidpipe setup`: plan, confirm, apply, summarise. `--plan` (alias `--dry-run`) only prints the plan.
 * A run with nothing to change makes no mutating AWS call.
 */
import { Option, type Command } from '../commander.js';
import { VidpipeError } from '../../errors.js';
import { addAwsOptions, awsOptionsFrom, awsTargetFrom, commandContext } from '../context.js';
import { summaryOf } from './index.js';

export function registerSetup(program: Command): void {
  const cmd = program
    .command('setup')
    .description(summaryOf('setup'))
    .option('--plan', 'print what would change, change nothing')
    .addOption(new Option('--dry-run', 'same as --plan').hideHelp())
    .option('-y, --yes', 'apply without asking')
    .option('--rotate-key', 'generate a new API key for the connection (the listener accepts the old one until the next rotation)')
    .option('--alarm-email <address>', 'subscribe this address to the alarm topic (saved to the config)')
    .option('--delivery <mode>', 'api-destination (POST to listener.url), sqs (a queue `vidpipe listen --pull` reads: no public URL) or both (saved to the config)');
  addAwsOptions(cmd).action(async (opts: Record<string, unknown>, command: Command) => {
    const { globals, out } = commandContext(command);
    const { requireConfig, saveConfig, validateConfig } = await import('../../config/config.js');
    const service = await import('../../provision/service.js');
    const { changesIn } = await import('../../provision/plan.js');
    const render = await import('../../provision/render.js');
    const { openAwsSession } = await import('../aws-session.js');
    const run = await import('../provision-run.js');
    const { confirm, promptContext } = await import('../../output/prompt.js');

    const { parseDelivery, deliveryOf, usesApiDestination, usesEventQueue } = await import('../../config/config.js');
    // Checked before the config is read or anything is asked: a typo names the choices.
    const delivery = typeof opts.delivery === 'string' ? parseDelivery(opts.delivery) : undefined;
    let config = await requireConfig(globals.configPath);
    const original = config;
    if (delivery && delivery !== deliveryOf(config)) {
      const wanted = { ...config, delivery };
      // Checked before saving: switching to a mode with an API destination still needs a listener URL.
      service.checkListenerUrl(wanted);
      config = wanted;
    }
    // Saved once the change is going ahead (applied, or nothing to apply): --plan and a "no" leave the config as it was.
    const saveDelivery = async () => {
      if (!delivery || delivery === deliveryOf(original)) return;
      await saveConfig(globals.configPath, { ...(await requireConfig(globals.configPath)), delivery });
      out.info(`Saved delivery ${delivery} to ${globals.configPath}.`);
    };
    // --alarm-email is planned at once and saved to the config only once the change is confirmed.
    let saveAlarmEmail = async () => {};
    if (typeof opts.alarmEmail === 'string' && opts.alarmEmail !== config.alarmEmail) {
      config = { ...config, alarmEmail: opts.alarmEmail };
      const email = opts.alarmEmail;
      const validated = config;
      // Validated with the rest of the config before anything is planned.
      await validateConfig(validated, globals.configPath);
      saveAlarmEmail = async () => {
        await saveConfig(globals.configPath, validated);
        out.info(`Saved alarmEmail ${email} to ${globals.configPath}.`);
      };
    }
    service.checkListenerUrl(config);
    const session = openAwsSession(awsTargetFrom(awsOptionsFrom(opts), config.region), out);
    try {
      const options = { config, configPath: globals.configPath, aws: session.aws, rotateKey: Boolean(opts.rotateKey) };
      const observation = await run.observeWithProgress(options, out);
      const plan = service.planSetup(observation);
      const changes = changesIn(plan);
      const target = run.runTarget(session, observation);
      if (!out.json) out.info(render.renderTarget(target, out.ec));

      if (opts.plan || opts.dryRun) {
        out.result({ target, plan }, (c) => render.renderPlan(plan, c));
        return;
      }
      if (!changes.length) {
        await saveDelivery();
        await saveAlarmEmail();
        out.result({ target, plan, results: [], awsCalls: session.calls() }, (c) => `${render.renderPlan(plan, c)}\nEverything is in place: nothing was changed.`);
        out.debug(`${session.calls()} AWS calls in ${session.elapsed()} ms`);
        return;
      }
      // On a terminal the prompt comes after the plan, so it shows what will change.
      if (!out.json) out.info(render.renderPlan(plan, out.ec));
      const deletes = changes.filter((s) => s.action === 'delete');
      const ok = await confirm(promptContext(Boolean(opts.yes), out.json), deletes.length ? `Apply these changes, deleting ${deletes.length} resource(s)?` : 'Apply these changes?', {
        default: true,
        destructive: deletes.length > 0,
        // The README's promise: without a terminal (or with --json) and without --yes, setup changes nothing.
        required: true,
        flag: '--yes',
        hint: '`vidpipe setup --plan` shows what would change.',
      });
      if (!ok) return out.warn('Nothing was changed.');
      await saveDelivery();
      await saveAlarmEmail();

      const applied = await run.applyWithProgress(observation, plan, session, out);
      const pullNote = usesEventQueue(config)
        ? `Events wait in the SQS queue ${observation.env.names.eventQueue}: run \`vidpipe listen --pull\` to receive them.`
        : undefined;
      const secretsNote = `The listener's ${config.listener.auth === 'API_KEY' ? `API key (header ${config.listener.authHeader})` : 'Basic credentials'} is in ${observation.env.secretsFile} (0600), which \`vidpipe listen\` reads.`;
      const doc = { target, plan, results: applied.results, secretsFile: observation.env.secretsFile, awsCalls: session.calls(), ms: session.elapsed() };
      out.debug(`${session.calls()} AWS calls in ${session.elapsed()} ms`);
      if (applied.failed.length) {
        if (!out.json) out.result(doc, (c) => render.renderResults(applied.results, c));
        const first = applied.firstError;
        throw new VidpipeError('SETUP_INCOMPLETE', `${applied.failed.length} step(s) failed: ${applied.failed.map((f) => `${f.resource}: ${f.error}`).join('; ')}`, {
          hint: `${first instanceof VidpipeError && first.hint ? `${first.hint}\n` : ''}Fix the cause and run \`vidpipe setup\` again: it continues where this run stopped.`,
          exitCode: first instanceof VidpipeError ? first.exitCode : 1,
          cause: first,
          details: { results: applied.results },
          resultPrinted: !out.json,
        });
      }
      out.result(doc, (c) => [render.renderResults(applied.results, c), '', ...(usesApiDestination(config) ? [secretsNote] : []), ...(pullNote ? [pullNote] : [])].join('\n'));
      if (opts.rotateKey)
        // The new key was saved before the connection was updated, and the listener re-reads the file when it changes,
        // so a listener on this file never refuses it. A copy elsewhere must be updated: until then, 401s, which
        // EventBridge retries under the target's retry policy.
        out.info(
          `A running \`vidpipe listen\` that reads ${observation.env.secretsFile} accepts the new key within a second, and the previous one until the next rotation. ` +
            'A listener elsewhere needs this file copied to it (or the new key in VIDPIPE_API_KEY, and a restart).',
        );
      out.success(`Setup complete: ${changes.length} change(s) applied.`);
    } finally {
      session.close();
    }
  });
}
