/**
 * The trigger function's log group, /aws/lambda/<function>. Lambda would create it on the first invocation, with
 * logs kept forever; setup creates it first, tagged, with a retention, so it is a resource vidpipe owns: `status`
 * checks it and `teardown` deletes it (unless --keep-logs: a post-mortem may need the logs after the pipeline is gone).
 */
import { change, type Difference } from '../diff.js';
import { triggerNames } from '../names.js';
import type { ResourceModule } from '../types.js';
import { appTagMap, call, deleteIfExists, readOrUndefined } from './common.js';
import { triggerWanted } from './lambda-role.js';

/** Days the trigger's logs are kept (one of PutRetentionPolicy's allowed values: 1, 3, 5, 7, 14, 30, 60, 90 …). */
export const LOG_RETENTION_DAYS = 30;

export const lambdaLogGroupName = (app: string) => `/aws/lambda/${triggerNames(app).lambdaFunction}`;

interface LogGroupDesired {
  name: string;
  retentionDays: number;
}

interface LogGroupObserved {
  retentionDays?: number;
  storedBytes?: number;
}

export const lambdaLogGroup: ResourceModule<LogGroupDesired, LogGroupObserved> = {
  id: 'lambda-log-group',
  kind: 'CloudWatch log group',
  dependsOn: [],
  name: (env) => lambdaLogGroupName(env.config.app),
  desired: (env) => (triggerWanted(env) ? { name: lambdaLogGroupName(env.config.app), retentionDays: LOG_RETENTION_DAYS } : undefined),

  async observe(aws, env) {
    const name = lambdaLogGroupName(env.config.app);
    const logs = await aws.logs();
    const m = await import('@aws-sdk/client-cloudwatch-logs');
    const out = await readOrUndefined('logs:DescribeLogGroups', name, () => logs.send(new m.DescribeLogGroupsCommand({ logGroupNamePrefix: name })));
    const group = out?.logGroups?.find((g) => g.logGroupName === name);
    if (!group) return undefined;
    return {
      ...(group.retentionInDays !== undefined ? { retentionDays: group.retentionInDays } : {}),
      ...(group.storedBytes !== undefined ? { storedBytes: group.storedBytes } : {}),
    };
  },

  diff: (d, o) => (o.retentionDays === d.retentionDays ? [] : [change('retentionInDays', o.retentionDays, d.retentionDays)]),

  async apply(aws, d, o, _w, env) {
    const logs = await aws.logs();
    const m = await import('@aws-sdk/client-cloudwatch-logs');
    if (!o) await call('logs:CreateLogGroup', d.name, () => logs.send(new m.CreateLogGroupCommand({ logGroupName: d.name, tags: appTagMap(env) })));
    await call('logs:PutRetentionPolicy', d.name, () => logs.send(new m.PutRetentionPolicyCommand({ logGroupName: d.name, retentionInDays: d.retentionDays })));
    return { retentionDays: d.retentionDays, storedBytes: o?.storedBytes ?? 0 };
  },

  async destroy(aws, _o, env) {
    const name = lambdaLogGroupName(env.config.app);
    const logs = await aws.logs();
    const m = await import('@aws-sdk/client-cloudwatch-logs');
    await deleteIfExists('logs:DeleteLogGroup', name, () => logs.send(new m.DeleteLogGroupCommand({ logGroupName: name })));
  },

  details: (o) => ({ retention: o.retentionDays ? `${o.retentionDays} days` : 'never expires' }),
};
