/**
 * `vidpipe init`: the config from flags, then (on a terminal, without --yes) a prompt for each main value with the
 * flag or the default pre-filled. Without a terminal nothing is asked: flags and defaults are used as they are.
 */
import path from 'node:path';
import { JOB_STATUSES } from '../events/types.js';
import { JOB_TEMPLATE_NAMES } from '../../templates/job-templates.js';
import { UsageError } from '../errors.js';
import { ask, confirm, type PromptContext } from '../output/prompt.js';
import { appNameFrom, defaultConfig, parseDelivery, validateConfig, DEFAULT_LISTENER_PATH, type VidpipeConfig } from './config.js';

export interface InitFlags {
  app?: string;
  region?: string;
  inputBucket?: string;
  outputBucket?: string;
  listenerUrl?: string;
  auth?: string;
  authHeader?: string;
  templates?: string;
  statuses?: string;
  trigger?: string;
  rateLimit?: number;
  maxRetries?: number;
  maxEventAge?: number;
  dlq?: boolean;
  allowSimulatorSource?: boolean;
  simulatorSource?: string;
  alarmEmail?: string;
  /** --delivery: checked here (parseDelivery) so a bad value is named before anything is asked. */
  delivery?: string;
}

/** A valid app name from a folder name (defined beside the config, which derives its default app the same way). */
export { appNameFrom };

const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function checkList(value: string, allowed: readonly string[], what: string): true | string {
  const bad = list(value).filter((v) => !allowed.includes(v));
  return bad.length ? `${what}: unknown ${bad.join(', ')} (choose from ${allowed.join(', ')})` : true;
}

function orThrow(result: true | string, flag: string): void {
  if (result !== true) throw new UsageError('BAD_OPTION', `${flag} ${result}`);
}

export async function buildInitConfig(flags: InitFlags, prompts: PromptContext, cwd: string, env: NodeJS.ProcessEnv): Promise<VidpipeConfig> {
  if (flags.templates !== undefined) orThrow(checkList(flags.templates, JOB_TEMPLATE_NAMES, 'templates'), '--templates');
  if (flags.statuses !== undefined) orThrow(checkList(flags.statuses, JOB_STATUSES, 'statuses'), '--statuses');
  const delivery = flags.delivery === undefined ? undefined : parseDelivery(flags.delivery);

  const app = await ask(prompts, 'App name (every AWS resource name starts with it)', flags.app ?? appNameFrom(path.basename(cwd)), (v) =>
    /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/.test(v) ? true : '3–32 characters: lower-case letters, digits and hyphens, starting with a letter',
  );
  const base = defaultConfig(app);
  const region = await ask(prompts, 'AWS region', flags.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1');
  const inputBucket = await ask(prompts, 'Input bucket (uploads)', flags.inputBucket ?? base.inputBucket);
  const outputBucket = await ask(prompts, 'Output bucket (MediaConvert results)', flags.outputBucket ?? base.outputBucket);
  // SQS delivery needs no public URL (`vidpipe listen --pull` reads the queue): ask only when a flag gives one.
  const listenerUrl = delivery === 'sqs' && flags.listenerUrl === undefined ? '' : await ask(
    prompts,
    `The listener's public HTTPS URL (EventBridge POSTs events there; path ${DEFAULT_LISTENER_PATH})`,
    flags.listenerUrl ?? '',
    (v) => (v === '' || /^https:\/\//.test(v) ? true : 'must start with https:// (EventBridge only calls HTTPS endpoints)'),
  );
  const authHeader = await ask(prompts, 'API key header name', flags.authHeader ?? base.listener.authHeader);
  const templates = await ask(prompts, `Job templates (${JOB_TEMPLATE_NAMES.join(', ')})`, flags.templates ?? base.templates.join(','), (v) =>
    checkList(v, JOB_TEMPLATE_NAMES, 'templates'),
  );
  const statuses = await ask(prompts, 'Statuses to forward (add PROGRESSING,STATUS_UPDATE for progress)', flags.statuses ?? base.statuses.join(','), (v) =>
    checkList(v, JOB_STATUSES, 'statuses'),
  );
  // confirm() answers yes to everything under --yes: ask only when someone can answer, else keep the default (off).
  const allowSimulatorSource =
    flags.allowSimulatorSource ??
    (prompts.interactive && !prompts.yes
      ? await confirm(prompts, `Let \`simulate-complete --via eventbridge\` events (source ${base.simulatorSource}) through the rule?`, { default: false })
      : base.allowSimulatorSource);

  const config: VidpipeConfig = {
    ...base,
    region,
    inputBucket,
    outputBucket,
    listener: {
      ...(listenerUrl ? { url: listenerUrl } : {}),
      auth: (flags.auth ?? base.listener.auth) as VidpipeConfig['listener']['auth'],
      authHeader,
    },
    templates: list(templates) as VidpipeConfig['templates'],
    statuses: list(statuses) as VidpipeConfig['statuses'],
    trigger: (flags.trigger ?? base.trigger) as VidpipeConfig['trigger'],
    rateLimitPerSecond: flags.rateLimit ?? base.rateLimitPerSecond,
    retryPolicy: {
      maximumRetryAttempts: flags.maxRetries ?? base.retryPolicy.maximumRetryAttempts,
      maximumEventAgeInSeconds: flags.maxEventAge ?? base.retryPolicy.maximumEventAgeInSeconds,
    },
    deadLetterQueue: flags.dlq ?? base.deadLetterQueue,
    allowSimulatorSource,
    simulatorSource: flags.simulatorSource ?? base.simulatorSource,
    ...(flags.alarmEmail ? { alarmEmail: flags.alarmEmail } : {}),
    ...(delivery ? { delivery } : {}),
  };
  return validateConfig(config, 'the new config');
}
