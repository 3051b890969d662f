/**
 * Monitoring, so the pipeline never fails silently: an SNS topic, an optional e-mail subscription (`--alarm-email`),
 * and CloudWatch alarms on the rule's FailedInvocations and InvocationsSentToDLQ (AWS/Events, dimension RuleName)
 * and on the DLQ's ApproximateNumberOfMessagesVisible (AWS/SQS, QueueName): any value > 0 in 5 minutes alarms.
 *
 * FailedInvocations counts an event only once EventBridge has given up on it — after up to 24 hours and 185 attempts
 * with the default retry policy (docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html) — so
 * while the listener is down for an hour it stays at 0. RetryInvocationAttempts (AWS/Events, RuleName; "the number of
 * times a target invocation has been retried", eb-monitoring.html) rises at once: the alarm on it fires when there
 * were retries in each of 3 consecutive 5-minute periods (15 minutes of a listener that does not answer), and a single
 * retried blip does not wake anyone.
 */
import { change, type Difference } from '../diff.js';
import { arns } from '../names.js';
import type { ProvisionEnv, ResourceModule } from '../types.js';
import { appTags, call, deleteIfExists, readOrUndefined } from './common.js';

interface TopicObserved {
  arn: string;
}

export const alarmTopic: ResourceModule<{ name: string }, TopicObserved> = {
  id: 'alarm-topic',
  kind: 'SNS topic',
  dependsOn: [],
  name: (env) => env.names.alarmTopic,
  desired: (env) => ({ name: env.names.alarmTopic }),

  async observe(aws, env) {
    const TopicArn = arns.topic(env, env.names.alarmTopic);
    const sns = await aws.sns();
    const m = await import('@aws-sdk/client-sns');
    const out = await readOrUndefined('sns:GetTopicAttributes', TopicArn, () => sns.send(new m.GetTopicAttributesCommand({ TopicArn })));
    return out ? { arn: TopicArn } : undefined;
  },

  diff: () => [],

  async apply(aws, d, _o, _w, env) {
    const sns = await aws.sns();
    const m = await import('@aws-sdk/client-sns');
    const out = await call('sns:CreateTopic', d.name, () => sns.send(new m.CreateTopicCommand({ Name: d.name, Tags: appTags(env) })));
    return { arn: out.TopicArn! };
  },

  async destroy(aws, o) {
    const sns = await aws.sns();
    const m = await import('@aws-sdk/client-sns');
    // Deleting a topic also deletes its subscriptions.
    await deleteIfExists('sns:DeleteTopic', o.arn, () => sns.send(new m.DeleteTopicCommand({ TopicArn: o.arn })));
  },
};

interface SubscriptionObserved {
  /** "PendingConfirmation" until the recipient clicks the link in AWS's e-mail. */
  subscriptionArn: string;
}

export const alarmEmail: ResourceModule<{ email: string }, SubscriptionObserved> = {
  id: 'alarm-email',
  kind: 'SNS e-mail subscription',
  dependsOn: ['alarm-topic'],
  name: (env) => env.config.alarmEmail ?? '(no --alarm-email)',
  desired: (env) => (env.config.alarmEmail ? { email: env.config.alarmEmail } : undefined),

  async observe(aws, env) {
    if (!env.config.alarmEmail) return undefined;
    const TopicArn = arns.topic(env, env.names.alarmTopic);
    const sns = await aws.sns();
    const m = await import('@aws-sdk/client-sns');
    const out = await readOrUndefined('sns:ListSubscriptionsByTopic', TopicArn, () => sns.send(new m.ListSubscriptionsByTopicCommand({ TopicArn })));
    const sub = out?.Subscriptions?.find((s) => s.Protocol === 'email' && s.Endpoint === env.config.alarmEmail);
    return sub ? { subscriptionArn: sub.SubscriptionArn ?? 'PendingConfirmation' } : undefined;
  },

  diff: () => [],

  async apply(aws, d, _o, world, env) {
    const TopicArn = world.get('alarm-topic')?.arn ?? arns.topic(env, env.names.alarmTopic);
    const sns = await aws.sns();
    const m = await import('@aws-sdk/client-sns');
    const out = await call('sns:Subscribe', TopicArn, () => sns.send(new m.SubscribeCommand({ TopicArn, Protocol: 'email', Endpoint: d.email })));
    return { subscriptionArn: out.SubscriptionArn ?? 'PendingConfirmation' };
  },

  async destroy(aws, o) {
    // A pending subscription has no ARN to unsubscribe: it goes with the topic.
    if (!o.subscriptionArn.startsWith('arn:')) return;
    const sns = await aws.sns();
    const m = await import('@aws-sdk/client-sns');
    await deleteIfExists('sns:Unsubscribe', o.subscriptionArn, () => sns.send(new m.UnsubscribeCommand({ SubscriptionArn: o.subscriptionArn })));
  },

  details: (o) => ({ state: o.subscriptionArn.startsWith('arn:') ? 'confirmed' : 'pending confirmation (check the inbox)' }),
};

interface AlarmDesired {
  name: string;
  namespace: string;
  metric: string;
  dimension: { Name: string; Value: string };
  statistic: 'Sum' | 'Maximum';
  description: string;
  /** Default: > 0 in one 5-minute period. */
  threshold?: number;
  comparison?: 'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold';
  /** Periods evaluated, all of which must breach (DatapointsToAlarm = EvaluationPeriods). */
  evaluationPeriods?: number;
}

interface AlarmObserved {
  arn: string;
  namespace?: string;
  metric?: string;
  dimensions: { Name?: string; Value?: string }[];
  statistic?: string;
  threshold?: number;
  comparison?: string;
  evaluationPeriods?: number;
  datapointsToAlarm?: number;
  actions: string[];
  state?: string;
}

const PERIOD_SECONDS = 300;

function wantedCondition(d: AlarmDesired) {
  return { threshold: d.threshold ?? 0, comparison: d.comparison ?? 'GreaterThanThreshold', evaluationPeriods: d.evaluationPeriods ?? 1 };
}

export function alarmModule(id: string, spec: (env: ProvisionEnv) => AlarmDesired | undefined, name: (env: ProvisionEnv) => string): ResourceModule<AlarmDesired, AlarmObserved> {
  return {
    id,
    kind: 'CloudWatch alarm',
    dependsOn: ['alarm-topic'],
    name,
    desired: spec,

    async observe(aws, env) {
      const cw = await aws.cloudwatch();
      const m = await import('@aws-sdk/client-cloudwatch');
      const out = await call('cloudwatch:DescribeAlarms', name(env), () => cw.send(new m.DescribeAlarmsCommand({ AlarmNames: [name(env)] })));
      const a = out.MetricAlarms?.[0];
      if (!a) return undefined;
      return {
        arn: a.AlarmArn!,
        namespace: a.Namespace,
        metric: a.MetricName,
        dimensions: a.Dimensions ?? [],
        statistic: a.Statistic,
        threshold: a.Threshold,
        comparison: a.ComparisonOperator,
        ...(a.EvaluationPeriods !== undefined ? { evaluationPeriods: a.EvaluationPeriods } : {}),
        ...(a.DatapointsToAlarm !== undefined ? { datapointsToAlarm: a.DatapointsToAlarm } : {}),
        actions: a.AlarmActions ?? [],
        state: a.StateValue,
      };
    },

    diff(d, o, world, env) {
      const reasons: Difference[] = [];
      const dims = o.dimensions.map((x) => `${x.Name}=${x.Value}`).join(',');
      const wantDims = `${d.dimension.Name}=${d.dimension.Value}`;
      if (o.namespace !== d.namespace || o.metric !== d.metric || dims !== wantDims) reasons.push(change('metric', `${o.namespace}/${o.metric} ${dims}`, `${d.namespace}/${d.metric} ${wantDims}`));
      const w = wantedCondition(d);
      if (o.statistic !== d.statistic || o.threshold !== w.threshold || o.comparison !== w.comparison)
        reasons.push(change('condition', `${o.statistic} ${o.comparison} ${o.threshold}`, `${d.statistic} ${w.comparison} ${w.threshold}`));
      // An alarm created before DatapointsToAlarm existed reports none: it then equals EvaluationPeriods.
      if (o.evaluationPeriods !== w.evaluationPeriods || (o.datapointsToAlarm ?? o.evaluationPeriods) !== w.evaluationPeriods)
        reasons.push(change('datapoints to alarm / periods', `${o.datapointsToAlarm ?? o.evaluationPeriods}/${o.evaluationPeriods}`, `${w.evaluationPeriods}/${w.evaluationPeriods}`));
      const topic = world.get('alarm-topic')?.arn ?? arns.topic(env, env.names.alarmTopic);
      if (!o.actions.includes(topic)) reasons.push(change('alarm actions', o.actions, [topic]));
      return reasons;
    },

    async apply(aws, d, _o, world, env) {
      const cw = await aws.cloudwatch();
      const m = await import('@aws-sdk/client-cloudwatch');
      const topic = world.get('alarm-topic')?.arn ?? arns.topic(env, env.names.alarmTopic);
      const w = wantedCondition(d);
      // PutMetricAlarm creates or replaces.
      await call('cloudwatch:PutMetricAlarm', d.name, () =>
        cw.send(
          new m.PutMetricAlarmCommand({
            AlarmName: d.name,
            AlarmDescription: d.description,
            Namespace: d.namespace,
            MetricName: d.metric,
            Dimensions: [d.dimension],
            Statistic: d.statistic,
            Period: PERIOD_SECONDS,
            EvaluationPeriods: w.evaluationPeriods,
            DatapointsToAlarm: w.evaluationPeriods,
            Threshold: w.threshold,
            ComparisonOperator: w.comparison,
            // No data means no failures: the metric is only emitted when something happens.
            TreatMissingData: 'notBreaching',
            AlarmActions: [topic],
            Tags: appTags(env),
          }),
        ),
      );
      return {
        arn: arns.alarm(env, d.name),
        namespace: d.namespace,
        metric: d.metric,
        dimensions: [d.dimension],
        statistic: d.statistic,
        threshold: w.threshold,
        comparison: w.comparison,
        evaluationPeriods: w.evaluationPeriods,
        datapointsToAlarm: w.evaluationPeriods,
        actions: [topic],
        state: 'INSUFFICIENT_DATA',
      };
    },

    async destroy(aws, _o, env) {
      const cw = await aws.cloudwatch();
      const m = await import('@aws-sdk/client-cloudwatch');
      await deleteIfExists('cloudwatch:DeleteAlarms', name(env), () => cw.send(new m.DeleteAlarmsCommand({ AlarmNames: [name(env)] })));
    },

    details: (o) => ({ state: o.state ?? 'unknown' }),
  };
}

const eventsAlarm = (metric: string, description: string) => (env: ProvisionEnv): AlarmDesired => ({
  name: metric === 'FailedInvocations' ? env.names.alarmFailedInvocations : env.names.alarmSentToDlq,
  namespace: 'AWS/Events',
  metric,
  dimension: { Name: 'RuleName', Value: env.names.rule },
  statistic: 'Sum',
  description,
});

export const failedInvocationsAlarm = alarmModule(
  'alarm:failed-invocations',
  eventsAlarm('FailedInvocations', 'vidpipe: EventBridge could not deliver MediaConvert events to the listener'),
  (env) => env.names.alarmFailedInvocations,
);

export const sentToDlqAlarm = alarmModule(
  'alarm:sent-to-dlq',
  (env) => (env.config.deadLetterQueue ? eventsAlarm('InvocationsSentToDLQ', 'vidpipe: undelivered events went to the dead-letter queue')(env) : undefined),
  (env) => env.names.alarmSentToDlq,
);

export const dlqMessagesAlarm = alarmModule(
  'alarm:dlq-messages',
  (env) =>
    env.config.deadLetterQueue
      ? {
          name: env.names.alarmDlqMessages,
          namespace: 'AWS/SQS',
          metric: 'ApproximateNumberOfMessagesVisible',
          dimension: { Name: 'QueueName', Value: env.names.deadLetterQueue },
          statistic: 'Maximum',
          description: 'vidpipe: the dead-letter queue holds undelivered events (replay or inspect them)',
        }
      : undefined,
  (env) => env.names.alarmDlqMessages,
);

export const retryAttemptsAlarm = alarmModule(
  'alarm:retry-attempts',
  (env) => ({
    name: env.names.alarmRetryAttempts,
    namespace: 'AWS/Events',
    metric: 'RetryInvocationAttempts',
    dimension: { Name: 'RuleName', Value: env.names.rule },
    statistic: 'Sum',
    description: 'vidpipe: EventBridge has been retrying deliveries to the listener for 15 minutes (is `vidpipe listen` down, or refusing the key?)',
    threshold: 1,
    comparison: 'GreaterThanOrEqualToThreshold',
    evaluationPeriods: 3,
  }),
  (env) => env.names.alarmRetryAttempts,
);
