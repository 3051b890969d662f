/**
 * The executor: runs a plan's steps in dependency order, independent steps in parallel. Creates and updates wait
 * for the resources they depend on; deletes wait for the resources that depend on them (reverse order). A failed
 * step skips the steps that need it and lets the others finish, so the next `setup` starts from a state as far
 * along as possible and completes it.
 */
import type { AwsContext } from '../aws/context.js';
import { VidpipeError } from '../errors.js';
import type { Plan, PlanStep } from './plan.js';
import type { AnyResource, Observed, ProvisionEnv } from './types.js';

export type StepOutcome = 'done' | 'unchanged' | 'failed' | 'skipped';

export interface StepResult extends PlanStep {
  outcome: StepOutcome;
  error?: string;
  ms: number;
}

export interface ApplyOptions {
  aws: AwsContext;
  env: ProvisionEnv;
  modules: readonly AnyResource[];
  /** What observe() returned, by resource id. */
  observed: ReadonlyMap<string, unknown>;
  onStep?: (result: StepResult) => void;
  /** A step that changes something is about to run (for progress displays). */
  onStart?: (step: PlanStep) => void;
}

export interface ApplyResult {
  results: StepResult[];
  failed: StepResult[];
  /** The first failure's error, to rethrow with its exit code. */
  firstError?: VidpipeError | Error;
}

export async function applyPlan(plan: Plan, options: ApplyOptions): Promise<ApplyResult> {
  const { aws, env } = options;
  const modules = new Map(options.modules.map((m) => [m.id, m]));
  const world = new Map<string, Observed | undefined>(options.observed as Map<string, Observed | undefined>);
  const byId = new Map(plan.steps.map((s) => [s.resource, s]));
  const running = new Map<string, Promise<StepResult>>();
  let firstError: VidpipeError | Error | undefined;

  // For a delete, the steps that must run first are the deletes of the resources that depend on it.
  const waitsFor = (step: PlanStep): string[] =>
    step.action === 'delete'
      ? plan.steps.filter((s) => s.action === 'delete' && s.dependsOn.includes(step.resource)).map((s) => s.resource)
      : step.dependsOn.filter((d) => byId.get(d) && byId.get(d)!.action !== 'delete');

  const run = (step: PlanStep): Promise<StepResult> => {
    let promise = running.get(step.resource);
    if (promise) return promise;
    promise = (async () => {
      const before = await Promise.all(waitsFor(step).map((id) => run(byId.get(id)!)));
      const started = Date.now();
      const finish = (outcome: StepOutcome, error?: string): StepResult => {
        const result: StepResult = { ...step, outcome, ms: Date.now() - started, ...(error ? { error } : {}) };
        options.onStep?.(result);
        return result;
      };
      const blocked = before.find((r) => r.outcome === 'failed' || r.outcome === 'skipped');
      if (blocked) return finish('skipped', `${blocked.resource} did not complete`);
      if (step.action === 'noop') return finish('unchanged');
      const module = modules.get(step.resource)!;
      options.onStart?.(step);
      try {
        const observed = world.get(step.resource);
        if (step.action === 'delete') {
          await module.destroy(aws, observed, env);
          world.set(step.resource, undefined);
        } else {
          world.set(step.resource, await module.apply(aws, module.desired(env), observed, world, env));
        }
        return finish('done');
      } catch (err) {
        firstError ??= err as Error;
        return finish('failed', (err as Error).message);
      }
    })();
    running.set(step.resource, promise);
    return promise;
  };

  const results = await Promise.all(plan.steps.map(run));
  return { results, failed: results.filter((r) => r.outcome === 'failed'), ...(firstError ? { firstError } : {}) };
}
