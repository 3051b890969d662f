/**
 * What setup, status and teardown share around the provisioning service: reading every resource with progress, the
 * account/region/profile/endpoint the run acts on (printed above the plan, in --json as `target`), and applying a
 * plan with per-resource progress. Imported lazily by those verbs (it loads the service and the SDK's helpers).
 */
import type { Output } from '../output/output.js';
import { createStepProgress } from '../output/step-progress.js';
import type { ApplyResult } from '../provision/apply.js';
import type { Plan } from '../provision/plan.js';
import type { RunTarget } from '../provision/render.js';
import { RESOURCES } from '../provision/resources/index.js';
import { applyObservedPlan, observeAll, type Observation, type ProvisionOptions } from '../provision/service.js';
import { SERVICE_ENV_IDS, type ServiceName } from '../aws/context.js';
import type { AwsSession } from './aws-session.js';

/** Reading is quick and says nothing new: a spinner on a terminal only, no lines otherwise. */
export async function observeWithProgress(options: ProvisionOptions, out: Output): Promise<Observation> {
  const progress = out.interactive ? await createStepProgress(out, 'reading', (options.modules ?? RESOURCES).length, { persist: false }) : undefined;
  if (!progress) return observeAll(options);
  try {
    return await observeAll({ ...options, onObserved: (m, env) => progress.finish(`read ${m.kind} ${m.name(env)}`, 'ok') });
  } finally {
    progress.stop();
  }
}

export function runTarget(session: AwsSession, observation: Observation): RunTarget {
  const endpoints: Record<string, string> = {};
  for (const service of Object.keys(SERVICE_ENV_IDS) as ServiceName[]) {
    const e = session.aws.endpointFor(service);
    if (e) endpoints[service] = e;
  }
  return {
    account: observation.env.accountId,
    region: observation.env.region,
    ...(session.target.regionSource ? { regionSource: session.target.regionSource } : {}),
    ...(session.aws.profile ? { profile: session.aws.profile } : {}),
    endpoints,
  };
}

const PAST = { create: 'created', update: 'updated', delete: 'deleted', noop: 'unchanged' } as const;

export async function applyWithProgress(observation: Observation, plan: Plan, session: AwsSession, out: Output): Promise<ApplyResult> {
  const changing = plan.steps.filter((s) => s.action !== 'noop');
  const progress = await createStepProgress(out, plan.steps.some((s) => s.action === 'delete') ? 'deleting' : 'applying', changing.length);
  try {
    return await applyObservedPlan(
      observation,
      plan,
      session.aws,
      (r) => {
        if (r.action === 'noop') return;
        const started = `${r.kind} ${r.name}`;
        if (r.outcome === 'done') progress.finish(`${PAST[r.action]} ${started}`, 'ok', `${r.ms} ms`, started);
        else if (r.outcome === 'failed') progress.finish(`${r.action} ${started}`, 'failed', r.error, started);
        else if (r.outcome === 'skipped') progress.finish(`${r.action} ${started}`, 'skipped', r.error, started);
        if (r.outcome === 'done') out.debug(`${r.action} ${r.kind} ${r.name} (${r.ms} ms)`);
      },
      (step) => progress.start(`${step.kind} ${step.name}`),
    );
  } finally {
    progress.stop();
  }
}
