/**
 * setup, status and teardown as services: observe every resource (reads only), plan (pure), and for setup/teardown
 * apply. Commands render what these return; nothing here prints.
 */
import path from 'node:path';
import type { AwsContext } from '../aws/context.js';
import { usesApiDestination, type VidpipeConfig } from '../config/config.js';
import { secretsPathFor } from '../config/secrets.js';
import { REGION_HINT } from '../aws/region.js';
import { UsageError } from '../errors.js';
import { applyPlan, type ApplyResult, type StepResult } from './apply.js';
import { resourceNames } from './names.js';
import { planResources, type Plan, type PlanStep } from './plan.js';
import { DATA_RESOURCES, LOG_RESOURCES, RESOURCES } from './resources/index.js';
import type { AnyResource, ProvisionEnv } from './types.js';

export interface ProvisionOptions {
  config: VidpipeConfig;
  configPath: string;
  aws: AwsContext;
  rotateKey?: boolean;
  /** The resource modules (tests wrap one to inject a failure). */
  modules?: readonly AnyResource[];
  /** Each resource read (for progress displays). */
  onObserved?: (module: AnyResource, env: ProvisionEnv) => void;
}

export interface Observation {
  env: ProvisionEnv;
  modules: readonly AnyResource[];
  observed: Map<string, unknown>;
}

/**
 * AWS requires an HTTPS endpoint for an API destination; moto would accept http://, so vidpipe checks. SQS delivery
 * alone (`delivery: "sqs"`) has no API destination and needs no URL: undefined then.
 */
export function checkListenerUrl(config: VidpipeConfig): string | undefined {
  if (!usesApiDestination(config)) return undefined;
  const url = config.listener.url;
  if (!url)
    throw new UsageError('LISTENER_URL_MISSING', 'The config has no listener URL (listener.url): EventBridge needs somewhere to send events.', {
      hint:
        'Run `vidpipe init --listener-url https://your.host/aws/listener/eventbridge/video --force`, or set listener.url in vidpipe.config.json. ' +
        'No public URL? `vidpipe setup --delivery sqs` delivers into an SQS queue that `vidpipe listen --pull` reads.',
    });
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError('LISTENER_URL_INVALID', `listener.url is not a URL: ${url}`);
  }
  if (parsed.protocol !== 'https:')
    throw new UsageError('LISTENER_URL_NOT_HTTPS', `listener.url must use https:// (EventBridge API destinations only call HTTPS endpoints), got ${url}`, {
      hint: 'Expose `vidpipe listen` behind HTTPS with a publicly trusted certificate (a tunnel or a load balancer) and use that URL.',
    });
  return url;
}

/** What the plan cannot do (yet), for `setup --plan`, `setup` and `status`. */
export function planNotes(config: VidpipeConfig): string[] {
  const notes: string[] = [];
  if (config.trigger === 'lambda' && config.templates.length === 0)
    notes.push("trigger 'lambda' needs a job template for the jobs it starts: add one to \"templates\" (the trigger is not set up without one).");
  return notes;
}

export async function provisionEnv(options: ProvisionOptions): Promise<ProvisionEnv> {
  const region = options.aws.region;
  if (!region)
    throw new UsageError('AWS_REGION_MISSING', 'No AWS region is set.', { hint: REGION_HINT });
  const secretsFile = secretsPathFor(options.configPath);
  return {
    config: options.config,
    names: resourceNames(options.config),
    region,
    accountId: await options.aws.accountId(),
    secretsFile,
    stateFile: path.join(path.dirname(secretsFile), 'provision-state.json'),
    rotateKey: options.rotateKey ?? false,
    // Built (in memory, ~1 s) only when the trigger is wanted: its hash decides whether the function's code changes.
    ...(options.config.trigger === 'lambda' ? { lambdaBundle: await (await import('../lambda/bundle.js')).bundleLambda() } : {}),
  };
}

/** Reads every resource's current state, all in parallel (reads only: no mutating call). */
export async function observeAll(options: ProvisionOptions): Promise<Observation> {
  const env = await provisionEnv(options);
  const modules = options.modules ?? RESOURCES;
  const states = await Promise.all(
    modules.map(async (m) => {
      const state = await m.observe(options.aws, env);
      options.onObserved?.(m, env);
      return state;
    }),
  );
  return { env, modules, observed: new Map(modules.map((m, i) => [m.id, states[i]])) };
}

export function planSetup(observation: Observation): Plan {
  const { env, modules, observed } = observation;
  const plan = planResources(
    modules.map((module) => ({ module, wanted: true, observed: observed.get(module.id) })),
    env,
    planNotes(env.config),
  );
  plan.notes.push(...queueLossNotes(plan, observed));
  return plan;
}

/** Switching SQS delivery off deletes the event queue with the events still waiting in it: said before it happens. */
function queueLossNotes(plan: Plan, observed: ReadonlyMap<string, unknown>): string[] {
  const step = plan.steps.find((s) => s.resource === 'event-queue' && s.action === 'delete');
  const waiting = (observed.get('event-queue') as { depth?: number; inFlight?: number } | undefined) ?? {};
  const count = (waiting.depth ?? 0) + (waiting.inFlight ?? 0);
  return step && count > 0 ? [`the event queue ${step.name} still holds ${count} event(s): they are deleted with it (run \`vidpipe listen --pull\` first to receive them)`] : [];
}

export function planTeardown(observation: Observation, deleteBuckets: boolean, keepLogs = false): Plan {
  const { env, modules, observed } = observation;
  const present = (ids: ReadonlySet<string>) => modules.filter((m) => ids.has(m.id) && observed.get(m.id) !== undefined);
  const keptBuckets = present(DATA_RESOURCES);
  const logs = present(LOG_RESOURCES);
  const plan = planResources(
    modules
      .filter((m) => (deleteBuckets || !DATA_RESOURCES.has(m.id)) && (!keepLogs || !LOG_RESOURCES.has(m.id)))
      .map((module) => ({ module, wanted: false, observed: observed.get(module.id) })),
    env,
  );
  if (keptBuckets.length && !deleteBuckets) plan.notes.push(`kept the buckets ${keptBuckets.map((m) => m.name(env)).join(', ')} (pass --delete-buckets to empty and delete them)`);
  if (logs.length)
    plan.notes.push(
      keepLogs
        ? `kept the log group ${logs.map((m) => m.name(env)).join(', ')} (--keep-logs): delete it with \`aws logs delete-log-group\` when done`
        : `the log group ${logs.map((m) => m.name(env)).join(', ')} and the logs in it are deleted (pass --keep-logs to keep them)`,
    );
  return plan;
}

export async function applyObservedPlan(
  observation: Observation,
  plan: Plan,
  aws: AwsContext,
  onStep?: (r: StepResult) => void,
  onStart?: (step: PlanStep) => void,
): Promise<ApplyResult> {
  return applyPlan(plan, { aws, env: observation.env, modules: observation.modules, observed: observation.observed, ...(onStep ? { onStep } : {}), ...(onStart ? { onStart } : {}) });
}

export type ResourceStatus = 'ok' | 'missing' | 'drifted';

export interface StatusRow {
  resource: string;
  kind: string;
  name: string;
  status: ResourceStatus;
  reason: string;
  details: Record<string, string | number>;
}

/** Every wanted resource: ok, missing or drifted (a resource the config turned off but still present counts as drifted). */
export function statusRows(observation: Observation, plan: Plan): StatusRow[] {
  const modules = new Map(observation.modules.map((m) => [m.id, m]));
  return plan.steps.map((step: PlanStep) => {
    const observed = observation.observed.get(step.resource);
    const module = modules.get(step.resource)!;
    const status: ResourceStatus = step.action === 'noop' ? 'ok' : step.action === 'create' ? 'missing' : 'drifted';
    return {
      resource: step.resource,
      kind: step.kind,
      name: step.name,
      status,
      reason: step.action === 'delete' ? 'present but not in the config' : step.reason,
      details: observed !== undefined && module.details ? module.details(observed) : {},
    };
  });
}
