/**
 * Every AWS name vidpipe provisions, derived from the app name alone, so setup, status and teardown on any machine
 * find the same resources. Limits: IAM role and policy names ≤ 64, EventBridge rule/connection/API destination ≤ 64,
 * SQS queue ≤ 80, CloudWatch alarm ≤ 255; the app name is ≤ 32 characters (config schema), so every suffix fits.
 */
import type { VidpipeConfig } from '../config/config.js';

/** The tag every resource carries (where AWS allows tags): key and value. */
export const APP_TAG_KEY = 'vidpipe:app';

export interface ResourceNames {
  inputBucket: string;
  outputBucket: string;
  jobRole: string;
  rule: string;
  connection: string;
  apiDestination: string;
  invokeRole: string;
  targetId: string;
  deadLetterQueue: string;
  /** The queue the rule delivers to in SQS delivery (`setup --delivery sqs|both`); `listen --pull` reads it. */
  eventQueue: string;
  /** The rule's target id for that queue. */
  queueTargetId: string;
  operatorPolicy: string;
  alarmTopic: string;
  alarmFailedInvocations: string;
  alarmSentToDlq: string;
  alarmDlqMessages: string;
  alarmRetryAttempts: string;
}

export function resourceNames(config: Pick<VidpipeConfig, 'app' | 'inputBucket' | 'outputBucket'>): ResourceNames {
  const app = config.app;
  return {
    inputBucket: config.inputBucket,
    outputBucket: config.outputBucket,
    jobRole: jobRoleName(app),
    rule: `${app}-mediaconvert-events`,
    connection: `${app}-listener`,
    apiDestination: `${app}-listener`,
    invokeRole: `${app}-eventbridge-invoke`,
    targetId: `${app}-listener`,
    deadLetterQueue: `${app}-events-dlq`,
    eventQueue: `${app}-events`,
    queueTargetId: `${app}-queue`,
    operatorPolicy: `${app}-operator`,
    alarmTopic: `${app}-alarms`,
    alarmFailedInvocations: `${app}-failed-invocations`,
    alarmSentToDlq: `${app}-invocations-sent-to-dlq`,
    alarmDlqMessages: `${app}-dlq-messages-visible`,
    alarmRetryAttempts: `${app}-retry-invocation-attempts`,
  };
}

/** The role MediaConvert assumes to read the input bucket and write the output bucket. */
export function jobRoleName(app: string): string {
  return `${app}-mediaconvert-job`;
}

/** The partition of a region: ARNs in China and GovCloud regions do not start with arn:aws. */
export function partitionOf(region: string | undefined): string {
  if (region?.startsWith('cn-')) return 'aws-cn';
  if (region?.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

export function roleArn(accountId: string, roleName: string, region?: string): string {
  return `arn:${partitionOf(region)}:iam::${accountId}:role/${roleName}`;
}

export interface ArnContext {
  region: string;
  accountId: string;
}

const p = (c: ArnContext) => partitionOf(c.region);

export const arns = {
  role: (c: ArnContext, name: string) => roleArn(c.accountId, name, c.region),
  policy: (c: ArnContext, name: string) => `arn:${p(c)}:iam::${c.accountId}:policy/${name}`,
  // Bucket ARNs carry no region or account; the partition is the caller's.
  bucket: (name: string, c?: ArnContext) => `arn:${c ? p(c) : 'aws'}:s3:::${name}`,
  rule: (c: ArnContext, name: string) => `arn:${p(c)}:events:${c.region}:${c.accountId}:rule/${name}`,
  defaultBus: (c: ArnContext) => `arn:${p(c)}:events:${c.region}:${c.accountId}:event-bus/default`,
  queue: (c: ArnContext, name: string) => `arn:${p(c)}:sqs:${c.region}:${c.accountId}:${name}`,
  topic: (c: ArnContext, name: string) => `arn:${p(c)}:sns:${c.region}:${c.accountId}:${name}`,
  alarm: (c: ArnContext, name: string) => `arn:${p(c)}:cloudwatch:${c.region}:${c.accountId}:alarm:${name}`,
  jobTemplate: (c: ArnContext, name: string) => `arn:${p(c)}:mediaconvert:${c.region}:${c.accountId}:jobTemplates/${name}`,
  mediaconvert: (c: ArnContext, what: string) => `arn:${p(c)}:mediaconvert:${c.region}:${c.accountId}:${what}`,
  archive: (c: ArnContext, name: string) => `arn:${p(c)}:events:${c.region}:${c.accountId}:archive/${name}`,
  replay: (c: ArnContext, name: string) => `arn:${p(c)}:events:${c.region}:${c.accountId}:replay/${name}`,
};

/**
 * The EventBridge archive of the rule's events on the default bus. Archive names are at most 48 characters
 * (CreateArchive, ArchiveName length constraint): `<app>-events` fits any app name (≤ 32).
 */
export function archiveName(app: string): string {
  return `${app}-events`;
}

/** The S3 → Lambda trigger's resources (trigger: 'lambda'). */
export function triggerNames(app: string) {
  return {
    /** The function and its execution role share a name. */
    lambdaFunction: `${app}-upload-trigger`,
    lambdaRole: `${app}-upload-trigger`,
    /** The function policy statement that lets S3 invoke it. */
    permissionStatementId: `${app}-s3-invoke`,
    /** The bucket notification's Id among the input bucket's notifications. */
    notificationId: `${app}-upload-trigger`,
    alarmLambdaErrors: `${app}-upload-trigger-errors`,
  };
}
