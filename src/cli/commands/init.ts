/** `vidpipe init`: writes vidpipe.config.json from flags and (on a terminal) prompts; refuses to overwrite without --force. */
import { Option, type Command } from '../commander.js';
import { existsSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import { commandContext, parseInteger } from '../context.js';
import { summaryOf } from './index.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description(summaryOf('init'))
    .option('--app <name>', 'app name: every AWS resource name starts with it (default: the folder name)')
    .option('--region <region>', 'AWS region (default: AWS_REGION or us-east-1)')
    .option('--input-bucket <name>', 'S3 bucket for uploads (default: <app>-input)')
    .option('--output-bucket <name>', 'S3 bucket for MediaConvert outputs (default: <app>-output)')
    .option('--listener-url <url>', "the listener's public HTTPS URL, e.g. https://host/aws/listener/eventbridge/video")
    .addOption(new Option('--auth <type>', 'how EventBridge authenticates to the listener').choices(['API_KEY', 'BASIC']))
    .option('--auth-header <name>', 'the API key header (default: x-api-key)')
    .option('--templates <list>', 'job templates to install: mp4,hls,thumbnails')
    .option('--statuses <list>', 'MediaConvert statuses to forward (default: COMPLETE,ERROR)')
    .addOption(new Option('--trigger <kind>', 'what starts jobs on upload').choices(['lambda', 'none']))
    .option('--rate-limit <n>', 'API destination invocations per second (1–300)', (v) => parseInteger(v, '--rate-limit', 1, 300))
    .option('--max-retries <n>', 'EventBridge retry attempts (0–185)', (v) => parseInteger(v, '--max-retries', 0, 185))
    .option('--max-event-age <seconds>', 'give up retrying after (60–86400 s)', (v) => parseInteger(v, '--max-event-age', 60, 86400))
    .option('--no-dlq', 'no dead-letter queue for undelivered events')
    .option('--allow-simulator-source', 'let `simulate-complete --via eventbridge` events through the rule')
    .option('--simulator-source <source>', 'the simulator\'s custom event source (default: vidpipe.simulator)')
    .option('--alarm-email <address>', 'e-mail the alarms to this address')
    .option('--delivery <mode>', 'how the rule delivers events: api-destination (POST to --listener-url), sqs (a queue `vidpipe listen --pull` reads: no public URL), or both')
    .option('-y, --yes', 'ask nothing: flags and defaults')
    .option('--force', 'overwrite an existing config')
    .action(async (opts: Record<string, unknown>, command: Command) => {
      const { globals, out } = commandContext(command);
      if (existsSync(globals.configPath) && !opts.force)
        throw new UsageError('CONFIG_EXISTS', `${globals.configPath} already exists.`, { hint: 'Pass --force to overwrite it, or edit it.' });
      const { buildInitConfig } = await import('../../config/init.js');
      const { saveConfig } = await import('../../config/config.js');
      const { promptContext } = await import('../../output/prompt.js');
      const pick = <T>(k: string) => opts[k] as T | undefined;
      const config = await buildInitConfig(
        {
          app: pick('app'),
          region: pick('region'),
          inputBucket: pick('inputBucket'),
          outputBucket: pick('outputBucket'),
          listenerUrl: pick('listenerUrl'),
          auth: pick('auth'),
          authHeader: pick('authHeader'),
          templates: pick('templates'),
          statuses: pick('statuses'),
          trigger: pick('trigger'),
          rateLimit: pick('rateLimit'),
          maxRetries: pick('maxRetries'),
          maxEventAge: pick('maxEventAge'),
          // commander sets dlq=true by default for a --no-dlq flag.
          dlq: pick('dlq'),
          allowSimulatorSource: pick('allowSimulatorSource'),
          simulatorSource: pick('simulatorSource'),
          alarmEmail: pick('alarmEmail'),
          delivery: pick('delivery'),
        },
        promptContext(Boolean(opts.yes), out.json),
        process.cwd(),
        process.env,
      );
      await saveConfig(globals.configPath, config);
      out.result({ configPath: globals.configPath, config }, () => `Wrote ${globals.configPath}.`);
      const { usesApiDestination } = await import('../../config/config.js');
      if (!usesApiDestination(config)) out.info('Delivery: sqs — events wait in an SQS queue that `vidpipe listen --pull` reads (no public URL needed).');
      else if (!config.listener.url) out.warn('No listener URL yet: set listener.url (https://…) before `vidpipe setup`, or use `--delivery sqs` (no public URL).');
      else if (!config.listener.url.startsWith('https://')) out.warn('listener.url is not https://: `vidpipe setup` will refuse it (EventBridge only calls HTTPS).');
      out.info('Next: `vidpipe setup --plan` to see what would be created, then `vidpipe setup`.');
    });
}
