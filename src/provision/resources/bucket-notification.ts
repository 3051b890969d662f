/**
 * The input bucket's notification to the trigger: s3:ObjectCreated:* (optionally only keys ending in triggerSuffix).
 * PutBucketNotificationConfiguration replaces the bucket's whole configuration, so every write reads the current one
 * and changes only vidpipe's entry (by its Id): other Lambda, SQS, SNS and EventBridge notifications survive.
 */
import { change, type Difference } from '../diff.js';
import type { NotificationConfiguration, LambdaFunctionConfiguration } from '@aws-sdk/client-s3';
import type { AwsContext } from '../../aws/context.js';
import { partitionOf, triggerNames } from '../names.js';
import type { ProvisionEnv, ResourceModule } from '../types.js';
import { call, readOrUndefined } from './common.js';
import { triggerWanted } from './lambda-role.js';

interface NotificationDesired {
  id: string;
  bucket: string;
  events: string[];
  suffix?: string;
}

interface NotificationObserved {
  functionArn?: string;
  events: string[];
  suffix?: string;
}

const EVENTS = ['s3:ObjectCreated:*'];

/** The current configuration, without the response metadata (undefined when the bucket does not exist). */
async function readConfiguration(aws: AwsContext, bucket: string): Promise<NotificationConfiguration | undefined> {
  const s3 = await aws.s3();
  const m = await import('@aws-sdk/client-s3');
  const out = await readOrUndefined('s3:GetBucketNotification', bucket, () => s3.send(new m.GetBucketNotificationConfigurationCommand({ Bucket: bucket })));
  if (!out) return undefined;
  const { $metadata: _meta, ...configuration } = out;
  return configuration;
}

async function writeConfiguration(aws: AwsContext, bucket: string, configuration: NotificationConfiguration): Promise<void> {
  const s3 = await aws.s3();
  const m = await import('@aws-sdk/client-s3');
  await call('s3:PutBucketNotification', bucket, () =>
    s3.send(new m.PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: configuration })),
  );
}

const suffixOf = (c: LambdaFunctionConfiguration) => c.Filter?.Key?.FilterRules?.find((r) => r.Name?.toLowerCase() === 'suffix')?.Value;

export const bucketNotification: ResourceModule<NotificationDesired, NotificationObserved> = {
  id: 'bucket-notification',
  kind: 'S3 bucket notification',
  // After the permission: S3 checks it can invoke the function when the notification is written.
  dependsOn: ['lambda-permission', 'lambda-function', 'input-bucket'],
  name: (env) => `${env.names.inputBucket} → ${triggerNames(env.config.app).lambdaFunction}`,
  desired: (env: ProvisionEnv) =>
    triggerWanted(env)
      ? {
          id: triggerNames(env.config.app).notificationId,
          bucket: env.names.inputBucket,
          events: EVENTS,
          ...(env.config.triggerSuffix ? { suffix: env.config.triggerSuffix } : {}),
        }
      : undefined,

  async observe(aws, env) {
    const configuration = await readConfiguration(aws, env.names.inputBucket);
    const ours = configuration?.LambdaFunctionConfigurations?.find((c) => c.Id === triggerNames(env.config.app).notificationId);
    if (!ours) return undefined;
    const suffix = suffixOf(ours);
    return { ...(ours.LambdaFunctionArn ? { functionArn: ours.LambdaFunctionArn } : {}), events: ours.Events ?? [], ...(suffix ? { suffix } : {}) };
  },

  diff(d, o, world, env) {
    const reasons: Difference[] = [];
    const functionArn =
      world.get('lambda-function')?.arn ?? `arn:${partitionOf(env.region)}:lambda:${env.region}:${env.accountId}:function:${triggerNames(env.config.app).lambdaFunction}`;
    if (o.functionArn !== functionArn) reasons.push(change('LambdaFunctionArn', o.functionArn, functionArn));
    if (o.events.join(',') !== d.events.join(',')) reasons.push(change('Events', o.events, d.events));
    if (o.suffix !== d.suffix) reasons.push(change('suffix filter', o.suffix, d.suffix));
    return reasons;
  },

  async apply(aws, d, _o, world) {
    const functionArn = world.get('lambda-function')?.arn;
    if (!functionArn) throw new Error('the trigger function has no ARN yet');
    const current = (await readConfiguration(aws, d.bucket)) ?? {};
    const ours: LambdaFunctionConfiguration = {
      Id: d.id,
      LambdaFunctionArn: functionArn,
      Events: d.events as never,
      ...(d.suffix ? { Filter: { Key: { FilterRules: [{ Name: 'suffix', Value: d.suffix }] } } } : {}),
    };
    const others = (current.LambdaFunctionConfigurations ?? []).filter((c) => c.Id !== d.id);
    await writeConfiguration(aws, d.bucket, { ...current, LambdaFunctionConfigurations: [...others, ours] });
    return { functionArn, events: d.events, ...(d.suffix ? { suffix: d.suffix } : {}) };
  },

  async destroy(aws, _o, env) {
    const current = await readConfiguration(aws, env.names.inputBucket);
    if (!current) return;
    const id = triggerNames(env.config.app).notificationId;
    const others = (current.LambdaFunctionConfigurations ?? []).filter((c) => c.Id !== id);
    if (others.length === (current.LambdaFunctionConfigurations ?? []).length) return;
    await writeConfiguration(aws, env.names.inputBucket, { ...current, LambdaFunctionConfigurations: others });
  },
};

