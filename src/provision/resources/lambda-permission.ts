/**
 * The function policy statement letting S3 invoke the trigger, for the input bucket of this account only
 * (SourceArn + SourceAccount: bucket ARNs carry no account id). It must exist before the bucket notification:
 * PutBucketNotificationConfiguration checks it (aws-facts.md §5).
 */
import { change, type Difference } from '../diff.js';
import { arns, triggerNames } from '../names.js';
import type { ResourceModule } from '../types.js';
import { call, deleteIfExists, readOrUndefined } from './common.js';
import { triggerWanted } from './lambda-role.js';

interface PermissionDesired {
  functionName: string;
  statementId: string;
  sourceArn: string;
  sourceAccount: string;
}

interface PermissionObserved {
  statementId: string;
  principal?: unknown;
  action?: unknown;
  sourceArn?: string;
  sourceAccount?: string;
}

interface PolicyStatement {
  Sid?: string;
  Principal?: { Service?: string } | string;
  Action?: string | string[];
  Condition?: { ArnLike?: Record<string, string>; ArnEquals?: Record<string, string>; StringEquals?: Record<string, string> };
}

export function readStatement(policy: string | undefined, sid: string): PermissionObserved | undefined {
  if (!policy) return undefined;
  const statement = ((JSON.parse(policy) as { Statement?: PolicyStatement[] }).Statement ?? []).find((s) => s.Sid === sid);
  if (!statement) return undefined;
  const c = statement.Condition ?? {};
  return {
    statementId: sid,
    principal: typeof statement.Principal === 'string' ? statement.Principal : statement.Principal?.Service,
    action: statement.Action,
    ...((c.ArnLike ?? c.ArnEquals)?.['AWS:SourceArn'] ? { sourceArn: (c.ArnLike ?? c.ArnEquals)!['AWS:SourceArn'] } : {}),
    ...(c.StringEquals?.['AWS:SourceAccount'] ? { sourceAccount: c.StringEquals['AWS:SourceAccount'] } : {}),
  };
}

export const lambdaPermission: ResourceModule<PermissionDesired, PermissionObserved> = {
  id: 'lambda-permission',
  kind: 'Lambda permission',
  dependsOn: ['lambda-function', 'input-bucket'],
  name: (env) => triggerNames(env.config.app).permissionStatementId,
  desired: (env) =>
    triggerWanted(env)
      ? {
          functionName: triggerNames(env.config.app).lambdaFunction,
          statementId: triggerNames(env.config.app).permissionStatementId,
          sourceArn: arns.bucket(env.names.inputBucket, env),
          sourceAccount: env.accountId,
        }
      : undefined,

  async observe(aws, env) {
    const FunctionName = triggerNames(env.config.app).lambdaFunction;
    const lambda = await aws.lambda();
    const m = await import('@aws-sdk/client-lambda');
    const out = await readOrUndefined('lambda:GetPolicy', FunctionName, () => lambda.send(new m.GetPolicyCommand({ FunctionName })));
    return readStatement(out?.Policy, triggerNames(env.config.app).permissionStatementId);
  },

  diff(d, o) {
    const reasons: Difference[] = [];
    if (o.principal !== 's3.amazonaws.com' || o.action !== 'lambda:InvokeFunction') reasons.push('grants something else');
    if (o.sourceArn !== d.sourceArn) reasons.push(change('AWS:SourceArn', o.sourceArn, d.sourceArn));
    if (o.sourceAccount !== d.sourceAccount) reasons.push(change('AWS:SourceAccount', o.sourceAccount, d.sourceAccount));
    return reasons;
  },

  async apply(aws, d, o) {
    const lambda = await aws.lambda();
    const m = await import('@aws-sdk/client-lambda');
    // A statement cannot be edited: remove the old one first (AWS answers ResourceConflictException to a reused id).
    if (o) await deleteIfExists('lambda:RemovePermission', d.functionName, () => lambda.send(new m.RemovePermissionCommand({ FunctionName: d.functionName, StatementId: d.statementId })));
    await call('lambda:AddPermission', d.functionName, () =>
      lambda.send(
        new m.AddPermissionCommand({
          FunctionName: d.functionName,
          StatementId: d.statementId,
          Action: 'lambda:InvokeFunction',
          Principal: 's3.amazonaws.com',
          SourceArn: d.sourceArn,
          SourceAccount: d.sourceAccount,
        }),
      ),
    );
    return { statementId: d.statementId, principal: 's3.amazonaws.com', action: 'lambda:InvokeFunction', sourceArn: d.sourceArn, sourceAccount: d.sourceAccount };
  },

  async destroy(aws, o, env) {
    const FunctionName = triggerNames(env.config.app).lambdaFunction;
    const lambda = await aws.lambda();
    const m = await import('@aws-sdk/client-lambda');
    await deleteIfExists('lambda:RemovePermission', FunctionName, () => lambda.send(new m.RemovePermissionCommand({ FunctionName, StatementId: o.statementId })));
  },
};
