/**
 * The pure planner (ARCHITECTURE convention 7, after aws-cdk's diff apart from deploy): desired × observed → steps.
 * No AWS call here; `setup --plan`, `setup`, `status` and `teardown` all read the same plan.
 */
import { describeDifference, isFieldChange, type FieldChange } from './diff.js';
import type { AnyResource, ProvisionEnv, World } from './types.js';

export type StepAction = 'create' | 'update' | 'delete' | 'noop';

export interface PlanStep {
  resource: string;
  kind: string;
  name: string;
  action: StepAction;
  reason: string;
  /** For an update: each field, the AWS value and the wanted value (what has no single value is only in `reason`). */
  changes?: FieldChange[];
  dependsOn: string[];
}

export interface PlanInput {
  module: AnyResource;
  /** false when planning a teardown: the resource is deleted if present. */
  wanted: boolean;
  observed: unknown;
}

export interface Plan {
  steps: PlanStep[];
  /** Things the plan cannot do yet or chose not to do, for the user to read. */
  notes: string[];
}

export function planResources(inputs: PlanInput[], env: ProvisionEnv, notes: string[] = []): Plan {
  const world: World = new Map(inputs.map((i) => [i.module.id, i.observed as never]));
  const steps = inputs.flatMap(({ module, wanted, observed }): PlanStep[] => {
    const desired = wanted ? module.desired(env) : undefined;
    const base = { resource: module.id, kind: module.kind, name: module.name(env), dependsOn: [...module.dependsOn] };
    if (desired === undefined) {
      if (observed === undefined) return [];
      return [{ ...base, action: 'delete', reason: wanted ? 'not in the config any more' : 'teardown' }];
    }
    if (observed === undefined) return [{ ...base, action: 'create', reason: 'missing' }];
    const differences = module.diff(desired, observed, world, env);
    if (!differences.length) return [{ ...base, action: 'noop', reason: 'in sync' }];
    const changes = differences.filter(isFieldChange);
    return [{ ...base, action: 'update', reason: differences.map(describeDifference).join('; '), ...(changes.length ? { changes } : {}) }];
  });
  return { steps, notes };
}

export function changesIn(plan: Plan): PlanStep[] {
  return plan.steps.filter((s) => s.action !== 'noop');
}

export function countActions(plan: Plan): Record<StepAction, number> {
  const counts: Record<StepAction, number> = { create: 0, update: 0, delete: 0, noop: 0 };
  for (const s of plan.steps) counts[s.action]++;
  return counts;
}
