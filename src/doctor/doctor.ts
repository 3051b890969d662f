/**
 * `vidpipe doctor`: walks the hops an event travels — AWS access, the upload bucket and its trigger, MediaConvert,
 * the rule, the delivery to the listener (connection, API destination, target, DLQ; or the SQS event queue and its
 * target), the alarms, the listener — and
 * reports each check as ok / warn / fail with what it saw and, for a failure, the one fix. It never stops at the
 * first failure. Resources are read through the same modules `setup` and `status` use (observe + diff), so "in sync"
 * means the same thing everywhere; doctor adds what those cannot see (runtime state, logs, HTTP answers).
 * Nothing here prints or exits: the command renders the report.
 */
import { describeDifference } from '../provision/diff.js';
import type { AwsContext } from '../aws/context.js';
import { awsErrorName } from '../aws/errors.js';
import { DEFAULT_AUTH_HEADER, DEFAULT_LISTENER_PATH, localListenerOrigin, usesApiDestination, usesEventQueue, type VidpipeConfig } from '../config/config.js';
import { clientAuthHeaders, clientCredentials, secretsPathFor } from '../config/secrets.js';
import { VidpipeError } from '../errors.js';
import type { JobStatus } from '../events/types.js';
import { arns, triggerNames } from '../provision/names.js';
import type { EventQueueObserved } from '../provision/resources/event-queue.js';
import { RESOURCES } from '../provision/resources/index.js';
import { provisionEnv } from '../provision/service.js';
import type { AnyResource, Observed, ProvisionEnv } from '../provision/types.js';
import { CERTIFICATE_ERRORS, probe, ProbeError } from './http-probe.js';
import { matchesPattern, UnsupportedPatternError } from './pattern.js';
import { mediaConvertSampleEvent } from './sample-event.js';
import { queueBacklogCheck, queuePolicyCheck, queueRedriveCheck, type QueueCheckInput } from './queue-checks.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  /** The hop, in travel order: aws, upload, trigger, mediaconvert, rule, delivery, monitoring, listener. */
  hop: string;
  id: string;
  title: string;
  status: CheckStatus;
  /** What doctor saw. */
  saw: string;
  /** For a failure or a warning: the one command or change that fixes it. */
  fix?: string;
  /** A failure caused by credentials or permissions (exit 3), not by the pipeline. */
  access?: boolean;
  /** Extra lines (a function's last ERROR log lines). */
  lines?: string[];
}

export interface DoctorOptions {
  config: VidpipeConfig;
  configPath: string;
  aws: AwsContext;
  /** Where the listener is reached (its origin); default: listener.url's, else the local `vidpipe listen`. */
  listenerUrl?: URL;
  /** The resource modules (tests wrap one to stand in for what the emulator cannot do). */
  modules?: readonly AnyResource[];
  processEnv?: NodeJS.ProcessEnv;
  /** Each check as it is decided, in order. */
  onCheck?: (check: Check) => void;
}

export interface DoctorReport {
  checks: Check[];
  /** 0 all pass (warnings allowed), 4 a hop is broken, 3 credentials or permissions. */
  exitCode: 0 | 3 | 4;
  account?: string;
  region?: string;
  listener: string;
}

/** How many of the trigger's latest ERROR log lines doctor shows, from the last 24 hours. */
const LOG_LINES = 5;
const LOG_WINDOW_MS = 24 * 3600 * 1000;

type Observation = { observed: unknown; error?: undefined } | { observed?: undefined; error: unknown };

export function exitCodeOf(checks: readonly Check[]): 0 | 3 | 4 {
  if (checks.some((c) => c.status === 'fail' && c.access)) return 3;
  if (checks.some((c) => c.status === 'fail')) return 4;
  return 0;
}

/** The listener's base URL: --listener-url, else listener.url without the event path, else the local listener. */
export function listenerBase(config: VidpipeConfig, override: URL | undefined, env: NodeJS.ProcessEnv): string {
  const raw = override?.href ?? config.listener.url ?? localListenerOrigin(config, env);
  const url = new URL(raw);
  // The event path may sit under a proxy's prefix: the read API and /readyz are beside it.
  const base = url.pathname.endsWith(DEFAULT_LISTENER_PATH) ? url.pathname.slice(0, -DEFAULT_LISTENER_PATH.length) : url.pathname.replace(/\/$/, '');
  return `${url.origin}${base}`;
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const { config, aws } = options;
  const processEnv = options.processEnv ?? process.env;
  const checks: Check[] = [];
  const add = (c: Check) => {
    checks.push(c);
    options.onCheck?.(c);
    return c;
  };
  const listener = listenerBase(config, options.listenerUrl, processEnv);

  // 1. AWS access: without it, every AWS check is skipped (the listener is still checked).
  let env: ProvisionEnv | undefined;
  const endpoint = aws.endpointFor('sts') ?? aws.endpointFor('eventbridge');
  try {
    env = await provisionEnv({ config, configPath: options.configPath, aws });
    add({
      hop: 'aws',
      id: 'credentials',
      title: 'AWS credentials',
      status: 'ok',
      saw: `account ${env.accountId}, region ${env.region}, endpoint ${endpoint ?? `AWS (regional)`}${aws.profile ? `, profile ${aws.profile}` : ''}`,
    });
  } catch (err) {
    add({ hop: 'aws', id: 'credentials', title: 'AWS credentials', ...failFrom(err, 'credentials or region'), access: true });
  }

  if (env) await awsChecks(options, env, add);
  else add({ hop: 'aws', id: 'aws-checks', title: 'AWS resources', status: 'skip', saw: 'not checked: no AWS access (see above)' });

  await listenerChecks(config, listener, options.configPath, processEnv, add);
  return { checks, exitCode: exitCodeOf(checks), ...(env ? { account: env.accountId, region: env.region } : {}), listener };
}

function failFrom(err: unknown, what: string): Pick<Check, 'status' | 'saw' | 'fix' | 'access'> {
  const e = err as VidpipeError;
  const access = err instanceof VidpipeError && e.exitCode === 3;
  return {
    status: 'fail',
    saw: `could not read the ${what}: ${e?.message ?? String(err)}`,
    ...(e?.hint ? { fix: e.hint } : {}),
    ...(access ? { access } : {}),
  };
}

async function awsChecks(options: DoctorOptions, env: ProvisionEnv, add: (c: Check) => Check): Promise<void> {
  const { config, aws } = options;
  const modules = new Map((options.modules ?? RESOURCES).map((m) => [m.id, m]));
  const ids = [...modules.keys()];
  // Every resource read in parallel; one failing read never stops the others.
  const results = await Promise.all(
    ids.map((id) =>
      modules
        .get(id)!
        .observe(aws, env)
        .then((observed): Observation => ({ observed }), (error: unknown): Observation => ({ error })),
    ),
  );
  const observations = new Map(ids.map((id, i) => [id, results[i]!]));
  const world = new Map<string, Observed | undefined>(ids.map((id) => [id, observations.get(id)!.observed as Observed | undefined]));
  const observed = <T>(id: string) => observations.get(id)?.observed as T | undefined;

  /** A resource as setup wants it: exists, in sync. */
  const resource = (hop: string, id: string, title: string, extra?: (o: any) => Partial<Check> | undefined): Check => {
    const m = modules.get(id);
    if (!m) return add({ hop, id, title, status: 'skip', saw: 'not part of this vidpipe' });
    const name = m.name(env);
    const o = observations.get(id)!;
    if (o.error !== undefined) return add({ hop, id, title, ...failFrom(o.error, `${m.kind} ${name}`) });
    const desired = m.desired(env);
    if (desired === undefined) {
      if (o.observed !== undefined) return add({ hop, id, title, status: 'warn', saw: `${m.kind} ${name} exists but the config does not want it`, fix: 'vidpipe setup (removes it)' });
      return add({ hop, id, title, status: 'skip', saw: 'not wanted by the config' });
    }
    if (o.observed === undefined) return add({ hop, id, title, status: 'fail', saw: `${m.kind} ${name} does not exist`, fix: 'vidpipe setup' });
    const reasons = m.diff(desired, o.observed, world, env);
    if (reasons.length) return add({ hop, id, title, status: 'fail', saw: `${m.kind} ${name}: ${reasons.map(describeDifference).join('; ')}`, fix: 'vidpipe setup (repairs it)', ...(extra?.(o.observed) ?? {}) });
    const details = m.details ? Object.entries(m.details(o.observed)).map(([k, v]) => `${k}: ${v}`) : [];
    return add({ hop, id, title, status: 'ok', saw: [name, ...details].join(', '), ...(extra?.(o.observed) ?? {}) });
  };

  // 2. Upload: the input bucket, its notification to the trigger, the trigger's permission to be invoked by S3.
  resource('upload', 'input-bucket', 'input bucket');
  if (config.trigger === 'lambda') {
    resource('upload', 'bucket-notification', 'S3 notification → Lambda');
    resource('upload', 'lambda-permission', "Lambda's resource policy lets S3 invoke it");
    // 3. The trigger: configuration (role, environment with the template name), code, and its recent errors.
    resource('trigger', 'lambda-function', 'upload trigger function', (o: { environment?: Record<string, string>; role?: string }) =>
      o?.environment?.VIDPIPE_TEMPLATE ? { lines: [`template ${o.environment.VIDPIPE_TEMPLATE}, role ${o.role ?? '?'}`] } : undefined,
    );
    add(await lambdaErrors(aws, triggerNames(config.app).lambdaFunction, observed('lambda-function') !== undefined));
  } else {
    add({ hop: 'upload', id: 'trigger', title: 'upload trigger', status: 'skip', saw: 'trigger is "none": jobs start with `vidpipe upload --start-job`' });
  }

  // 4. MediaConvert: the job role, the templates, the endpoint that answered.
  resource('mediaconvert', 'job-role', 'MediaConvert job role');
  const templateIds = ids.filter((id) => id.startsWith('job-template:') && modules.get(id)!.desired(env) !== undefined);
  for (const id of templateIds) resource('mediaconvert', id, `job template ${id.slice('job-template:'.length)}`);
  const mcEndpoint = aws.endpointFor('mediaconvert') ?? `https://mediaconvert.${env.region}.amazonaws.com`;
  const mcError = templateIds.map((id) => observations.get(id)!.error).find((e) => e !== undefined);
  add(
    mcError
      ? { hop: 'mediaconvert', id: 'mediaconvert-endpoint', title: 'MediaConvert endpoint', ...failFrom(mcError, `MediaConvert at ${mcEndpoint}`) }
      : { hop: 'mediaconvert', id: 'mediaconvert-endpoint', title: 'MediaConvert endpoint', status: templateIds.length ? 'ok' : 'skip', saw: `${mcEndpoint}${templateIds.length ? ' answered' : ' (no template configured)'}` },
  );

  // 5. The rule: enabled, in sync, and its pattern (as AWS holds it) matches a documented MediaConvert event.
  resource('rule', 'rule', 'EventBridge rule', (o: { state?: string }) =>
    o && o.state !== 'ENABLED' ? { status: 'fail', fix: `vidpipe setup (enables it), or \`aws events enable-rule --name ${env.names.rule}\`` } : undefined,
  );
  const rulePattern = observed<{ pattern?: Record<string, unknown> }>('rule')?.pattern;
  if (rulePattern) add(await sampleMatch(aws, rulePattern, config.statuses));

  // 6. Delivery: the connection, the API destination (HTTPS, active, answering), the target (role, retry, DLQ).
  resource('delivery', 'connection', 'EventBridge connection', (o: { state?: string }) =>
    o?.state && o.state !== 'AUTHORIZED'
      ? {
          status: 'fail',
          saw: `connection ${env.names.connection} is ${o.state}, not AUTHORIZED: EventBridge sends nothing through it`,
          fix: 'vidpipe setup --rotate-key (sends the credentials again, which re-authorizes the connection)',
        }
      : undefined,
  );
  resource('delivery', 'api-destination', 'API destination', (o: { state?: string }) =>
    o?.state && o.state !== 'ACTIVE' ? { status: 'fail', saw: `API destination ${env.names.apiDestination} is ${o.state}, not ACTIVE`, fix: 'vidpipe setup' } : undefined,
  );
  const destinationUrl = observed<{ url?: string }>('api-destination')?.url ?? config.listener.url;
  // SQS delivery alone has no API destination: its checks above say "not wanted", and nothing calls listener.url.
  if (destinationUrl && usesApiDestination(config)) add(await destinationAnswers(destinationUrl));
  resource('delivery', 'invoke-role', "target's role may invoke the API destination", (o: { access?: unknown }) => invokePermission(o, observed<{ arn?: string }>('api-destination')?.arn));
  resource('delivery', 'rule-target', 'rule target: retry policy and DLQ', (o: { retry?: { maximumRetryAttempts?: number; maximumEventAgeInSeconds?: number }; deadLetterArn?: string }) =>
    o ? { saw: `retry ${o.retry?.maximumRetryAttempts ?? '?'} attempts over ${o.retry?.maximumEventAgeInSeconds ?? '?'} s, DLQ ${o.deadLetterArn?.split(':').pop() ?? 'none'}` } : undefined,
  );
  // SQS delivery: the event queue (encryption, policy, redrive), the rule's target to it; its backlog under monitoring.
  const queueInput: QueueCheckInput | undefined = usesEventQueue(config)
    ? {
        queueName: env.names.eventQueue,
        ruleArn: arns.rule(env, env.names.rule),
        deadLetterArn: config.deadLetterQueue ? arns.queue(env, env.names.deadLetterQueue) : undefined,
        deadLetterName: env.names.deadLetterQueue,
        queue: observed<EventQueueObserved>('event-queue'),
      }
    : undefined;
  // In API-destination delivery alone these are shown only when present (left from an SQS mode: setup removes them).
  const queueShown = (id: string) => usesEventQueue(config) || observations.get(id)?.observed !== undefined || observations.get(id)?.error !== undefined;
  if (queueShown('event-queue')) resource('delivery', 'event-queue', 'event queue (SQS delivery): encryption, policy, redrive');
  if (queueInput) {
    add(queuePolicyCheck(queueInput));
    add(queueRedriveCheck(queueInput));
  }
  if (queueShown('queue-target')) resource('delivery', 'queue-target', 'rule target → event queue: retry policy and DLQ');
  resource('delivery', 'dead-letter-queue', 'dead-letter queue and its policy');
  resource('delivery', 'archive', 'event archive (for `vidpipe replay`)');

  // 7. Monitoring: alarms in ALARM name their metric; dead letters point to `vidpipe dlq`.
  const alarms = ids.filter((id) => id.startsWith('alarm:') && modules.get(id)!.desired(env) !== undefined);
  const firing = alarms
    .map((id) => observed<{ state?: string; namespace?: string; metric?: string; dimensions?: { Name?: string; Value?: string }[] }>(id))
    .filter((o): o is NonNullable<typeof o> => o?.state === 'ALARM');
  const missingAlarms = alarms.filter((id) => observations.get(id)!.error === undefined && observed(id) === undefined).map((id) => modules.get(id)!.name(env));
  for (const a of firing)
    add({
      hop: 'monitoring',
      id: `alarm:${a.metric}`,
      title: 'alarm',
      status: 'warn',
      saw: `alarm on ${a.namespace} ${a.metric} (${(a.dimensions ?? []).map((d) => `${d.Name}=${d.Value}`).join(', ')}) is in ALARM`,
      fix: a.metric === 'Errors' ? 'See the trigger function\'s ERROR lines above (CloudWatch Logs)' : 'vidpipe dlq list (why EventBridge gave up), then vidpipe dlq redrive',
    });
  if (!firing.length)
    add({
      hop: 'monitoring',
      id: 'alarms',
      title: 'alarms',
      status: missingAlarms.length ? 'warn' : 'ok',
      saw: missingAlarms.length ? `missing: ${missingAlarms.join(', ')}` : `${alarms.length} alarm(s), none in ALARM`,
      ...(missingAlarms.length ? { fix: 'vidpipe setup' } : {}),
    });
  const backlog = queueInput && queueBacklogCheck(queueInput);
  if (backlog) add(backlog);
  const depth = observed<{ depth?: number }>('dead-letter-queue')?.depth;
  if (depth !== undefined)
    add(
      depth > 0
        ? {
            hop: 'monitoring',
            id: 'dlq-depth',
            title: 'dead letters',
            status: 'warn',
            saw: `${depth} message(s) in ${env.names.deadLetterQueue}: events EventBridge could not deliver`,
            fix: 'vidpipe dlq list (grouped by error), then vidpipe dlq redrive',
          }
        : { hop: 'monitoring', id: 'dlq-depth', title: 'dead letters', status: 'ok', saw: `${env.names.deadLetterQueue} is empty` },
    );
}

/** The invoke role's inline policy must allow events:InvokeApiDestination on this destination (the first cause in AWS's troubleshooting page). */
function invokePermission(o: { access?: unknown } | undefined, destinationArn: string | undefined): Partial<Check> | undefined {
  if (!o || !destinationArn) return undefined;
  const statements = ((o.access as { Statement?: Record<string, unknown>[] } | undefined)?.Statement ?? []) as { Effect?: string; Action?: string | string[]; Resource?: string | string[] }[];
  const list = (v: string | string[] | undefined) => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
  const allowed = statements.some(
    (s) =>
      s.Effect === 'Allow' &&
      list(s.Action).some((a) => a === 'events:InvokeApiDestination' || a === 'events:*' || a === '*') &&
      list(s.Resource).some((r) => r === destinationArn || r === '*' || (r.endsWith('*') && destinationArn.startsWith(r.slice(0, -1)))),
  );
  if (allowed) return undefined;
  return {
    status: 'fail',
    saw: `the role's policy does not allow events:InvokeApiDestination on ${destinationArn}: EventBridge cannot call the listener (FailedInvocations)`,
    fix: 'vidpipe setup (writes the role\'s policy again)',
  };
}

async function lambdaErrors(aws: AwsContext, functionName: string, exists: boolean): Promise<Check> {
  const base = { hop: 'trigger', id: 'lambda-errors', title: 'trigger recent errors (CloudWatch Logs)' };
  if (!exists) return { ...base, status: 'skip', saw: 'no function to read logs of' };
  const logGroupName = `/aws/lambda/${functionName}`;
  try {
    const logs = await aws.logs();
    const m = await import('@aws-sdk/client-cloudwatch-logs');
    const lines: { at: number; text: string }[] = [];
    let nextToken: string | undefined;
    // FilterLogEvents pages oldest first; keep the newest few.
    for (let page = 0; page < 10; page++) {
      const out = await logs.send(
        new m.FilterLogEventsCommand({ logGroupName, filterPattern: 'ERROR', startTime: Date.now() - LOG_WINDOW_MS, ...(nextToken ? { nextToken } : {}) }),
      );
      for (const e of out.events ?? []) lines.push({ at: e.timestamp ?? 0, text: (e.message ?? '').trim() });
      nextToken = out.nextToken;
      if (!nextToken) break;
    }
    const last = lines.sort((a, b) => a.at - b.at).slice(-LOG_LINES);
    if (!last.length) return { ...base, status: 'ok', saw: `no ERROR line in ${logGroupName} in the last 24 h` };
    return {
      ...base,
      status: 'warn',
      saw: `${lines.length} ERROR line(s) in ${logGroupName} in the last 24 h; the latest:`,
      lines: last.map((l) => `${new Date(l.at).toISOString()}  ${l.text.slice(0, 300)}`),
      fix: 'read the lines above: a missing template or role (`vidpipe setup`), or an input MediaConvert refused',
    };
  } catch (err) {
    if (/ResourceNotFound/.test(awsErrorName(err))) return { ...base, status: 'ok', saw: `no log group ${logGroupName} yet: the function has not run` };
    const { translateAwsError } = await import('../aws/errors.js');
    return { ...base, ...failFrom(translateAwsError(err, { action: 'logs:FilterLogEvents', resource: logGroupName }), `logs in ${logGroupName}`) };
  }
}

/** TestEventPattern where the endpoint answers it (moto 5.2 does not: NotImplementedError), else vidpipe's matcher. */
async function sampleMatch(aws: AwsContext, pattern: Record<string, unknown>, statuses: readonly JobStatus[]): Promise<Check> {
  const status: JobStatus = statuses.includes('COMPLETE') ? 'COMPLETE' : statuses[0]!;
  const event = mediaConvertSampleEvent(status);
  const base = { hop: 'rule', id: 'rule-matches-sample', title: `rule matches a documented MediaConvert ${status} event` };
  let via = 'EventBridge TestEventPattern';
  let matched: boolean | undefined;
  let unanswered: string | undefined;
  try {
    const eb = await aws.eventbridge();
    const m = await import('@aws-sdk/client-eventbridge');
    const out = await eb.send(new m.TestEventPatternCommand({ EventPattern: JSON.stringify(pattern), Event: JSON.stringify(event) }));
    // moto 5.2 answers 200 with an empty body: no Result is no answer.
    if (typeof out.Result === 'boolean') matched = out.Result;
    else unanswered = 'it answered without a Result';
  } catch (err) {
    const name = awsErrorName(err);
    if (name === 'InvalidEventPatternException') return { ...base, status: 'fail', saw: `EventBridge says the rule's pattern is invalid: ${(err as Error).message}`, fix: 'vidpipe setup (writes the pattern again)' };
    unanswered = name;
  }
  if (matched === undefined) {
    const name = unanswered ?? 'no answer';
    try {
      matched = matchesPattern(pattern, event);
    } catch (inner) {
      if (inner instanceof UnsupportedPatternError) return { ...base, status: 'warn', saw: `TestEventPattern failed (${name}) and ${inner.message}` };
      throw inner;
    }
    via = `vidpipe's own matcher (TestEventPattern not available here: ${name})`;
  }
  return matched
    ? { ...base, status: 'ok', saw: `matches (checked with ${via})` }
    : { ...base, status: 'fail', saw: `does not match (checked with ${via}): MediaConvert's events would never reach the target`, fix: 'vidpipe setup (writes the pattern again)' };
}

async function destinationAnswers(url: string): Promise<Check> {
  const base = { hop: 'delivery', id: 'api-destination-url', title: 'API destination URL is HTTPS and answers' };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ...base, status: 'fail', saw: `${url} is not a URL`, fix: 'set listener.url in vidpipe.config.json, then vidpipe setup' };
  }
  if (parsed.protocol !== 'https:')
    return { ...base, status: 'fail', saw: `${url} is not HTTPS: EventBridge API destinations call only HTTPS endpoints`, fix: 'put the listener behind HTTPS (a tunnel or a load balancer), set listener.url to it, then vidpipe setup' };
  try {
    const answer = await probe(parsed);
    return { ...base, status: 'ok', saw: `${url} answered HTTP ${answer.status} to a GET in ${answer.ms} ms` };
  } catch (err) {
    const code = err instanceof ProbeError ? err.code : 'ERROR';
    if (CERTIFICATE_ERRORS.has(code))
      return { ...base, status: 'fail', saw: `${url}: the TLS certificate is not trusted (${code})`, fix: 'use a publicly trusted certificate (EventBridge refuses others), e.g. from Let\'s Encrypt or a load balancer' };
    return { ...base, status: 'fail', saw: `${url} did not answer (${code}): EventBridge cannot reach it either`, fix: 'start `vidpipe listen` behind that URL (check DNS, the tunnel or the load balancer)' };
  }
}

async function listenerChecks(config: VidpipeConfig, base: string, configPath: string, env: NodeJS.ProcessEnv, add: (c: Check) => Check): Promise<void> {
  const hop = 'listener';
  try {
    const ready = await probe(new URL(`${base}/readyz`));
    if (ready.status === 200) add({ hop, id: 'listener-ready', title: 'listener /readyz', status: 'ok', saw: `${base}/readyz answered ready in ${ready.ms} ms` });
    else
      add({
        hop,
        id: 'listener-ready',
        title: 'listener /readyz',
        status: 'fail',
        saw: `${base}/readyz answered ${ready.status} ${ready.body.slice(0, 200)}`,
        fix: 'the listener cannot use its database: read its log (`vidpipe listen` prints why)',
      });
  } catch (err) {
    add({
      hop,
      id: 'listener-ready',
      title: 'listener /readyz',
      status: 'fail',
      saw: `${base}/readyz did not answer (${err instanceof ProbeError ? err.code : String(err)})`,
      fix: usesApiDestination(config)
        ? `start it: \`vidpipe listen\`${config.listener.url ? ' behind listener.url' : ''} (or pass --listener-url where it runs)`
        : 'start it: `vidpipe listen --pull` (it reads the event queue; or pass --listener-url where it runs)',
    });
    return;
  }
  const secretsFile = secretsPathFor(configPath);
  let headers: Record<string, string>;
  try {
    headers = clientAuthHeaders(clientCredentials({ env, secretsFile }), config.listener.authHeader ?? DEFAULT_AUTH_HEADER);
  } catch (err) {
    add({ hop, id: 'listener-auth', title: 'listener accepts the configured credentials', ...failFrom(err, 'local credentials') });
    return;
  }
  if (!Object.keys(headers).length) {
    add({
      hop,
      id: 'listener-auth',
      title: 'listener accepts the configured credentials',
      status: 'fail',
      saw: `no credentials: VIDPIPE_API_KEY is not set and ${secretsFile} has none`,
      fix: 'run `vidpipe setup` (writes the connection\'s key there) or set VIDPIPE_API_KEY',
    });
    return;
  }
  try {
    const answer = await probe(new URL(`${base}/api/videos?limit=1`), headers);
    if (answer.status === 200) add({ hop, id: 'listener-auth', title: 'listener accepts the configured credentials', status: 'ok', saw: `GET /api/videos with the ${Object.keys(headers)[0]} header answered 200` });
    else
      add({
        hop,
        id: 'listener-auth',
        title: 'listener accepts the configured credentials',
        status: 'fail',
        saw: `GET /api/videos with the configured credentials answered ${answer.status}${answer.status === 401 ? ': the listener does not accept the key EventBridge sends' : ''}`,
        fix:
          answer.status === 401
            ? `give the listener the same credentials: copy ${secretsFile} (0600) to its host, or set the same VIDPIPE_API_KEY; after \`vidpipe setup --rotate-key\` copy it again`
            : 'read the listener\'s log',
      });
  } catch (err) {
    add({ hop, id: 'listener-auth', title: 'listener accepts the configured credentials', status: 'fail', saw: `the read API did not answer (${err instanceof ProbeError ? err.code : String(err)})` });
  }
}

/** For tests and --json: the checks' statuses by id. */
export function statusById(report: DoctorReport): Record<string, CheckStatus> {
  return Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
}
