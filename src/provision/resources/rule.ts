/** The EventBridge rule on the default bus that forwards MediaConvert job state changes (the configured statuses). */
import { change, jsonChanges, type Difference } from '../diff.js';
import { eventPattern } from '../documents.js';
import { sameJson } from '../../util/canonical-json.js';
import type { ResourceModule } from '../types.js';
import { appTags, call, deleteIfExists, readOrUndefined } from './common.js';

interface RuleDesired {
  name: string;
  pattern: Record<string, unknown>;
}

interface RuleObserved {
  arn: string;
  pattern: unknown;
  state?: string;
}

export const rule: ResourceModule<RuleDesired, RuleObserved> = {
  id: 'rule',
  kind: 'EventBridge rule',
  dependsOn: [],
  name: (env) => env.names.rule,
  desired: (env) => ({ name: env.names.rule, pattern: eventPattern(env.config) }),

  async observe(aws, env) {
    const Name = env.names.rule;
    const eb = await aws.eventbridge();
    const m = await import('@aws-sdk/client-eventbridge');
    const out = await readOrUndefined('events:DescribeRule', Name, () => eb.send(new m.DescribeRuleCommand({ Name })));
    if (!out) return undefined;
    return { arn: out.Arn!, pattern: out.EventPattern ? JSON.parse(out.EventPattern) : undefined, state: out.State };
  },

  diff(d, o) {
    const reasons: Difference[] = [];
    if (!sameJson(o.pattern, d.pattern)) reasons.push(...jsonChanges('EventPattern', o.pattern, d.pattern));
    if (o.state !== 'ENABLED') reasons.push(change('State', o.state, 'ENABLED'));
    return reasons;
  },

  async apply(aws, d, _o, _w, env) {
    const eb = await aws.eventbridge();
    const m = await import('@aws-sdk/client-eventbridge');
    // PutRule creates or replaces: the same call repairs drift.
    const out = await call('events:PutRule', d.name, () =>
      eb.send(
        new m.PutRuleCommand({
          Name: d.name,
          EventPattern: JSON.stringify(d.pattern),
          State: 'ENABLED',
          Description: `vidpipe (${env.config.app}): MediaConvert job state changes to the listener`,
          Tags: appTags(env),
        }),
      ),
    );
    return { arn: out.RuleArn!, pattern: d.pattern, state: 'ENABLED' };
  },

  async destroy(aws, _o, env) {
    const Rule = env.names.rule;
    const eb = await aws.eventbridge();
    const m = await import('@aws-sdk/client-eventbridge');
    // DeleteRule refuses a rule that still has targets (ours is removed before; others may have been added by hand).
    const targets = await readOrUndefined('events:ListTargetsByRule', Rule, () => eb.send(new m.ListTargetsByRuleCommand({ Rule })));
    const ids = (targets?.Targets ?? []).map((t) => t.Id!);
    if (ids.length) await call('events:RemoveTargets', Rule, () => eb.send(new m.RemoveTargetsCommand({ Rule, Ids: ids })));
    await deleteIfExists('events:DeleteRule', Rule, () => eb.send(new m.DeleteRuleCommand({ Name: Rule })));
  },

  details: (o) => ({ state: o.state ?? 'unknown' }),
};
