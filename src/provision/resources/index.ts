/**
 * Every resource setup provisions, in a readable order (the executor orders by dependsOn, not by this list).
 * A new resource is one module file plus one line here.
 */
import type { AnyResource } from '../types.js';
import { alarmEmail, alarmTopic, dlqMessagesAlarm, failedInvocationsAlarm, retryAttemptsAlarm, sentToDlqAlarm } from './alarms.js';
import { apiDestination } from './api-destination.js';
import { archive } from './archive.js';
import { inputBucket, outputBucket } from './bucket.js';
import { connection } from './connection.js';
import { deadLetterQueue } from './dead-letter-queue.js';
import { eventQueue } from './event-queue.js';
import { invokeRole } from './invoke-role.js';
import { jobRole } from './job-role.js';
import { jobTemplateResources } from './job-template.js';
import { bucketNotification } from './bucket-notification.js';
import { lambdaErrorsAlarm } from './lambda-errors-alarm.js';
import { lambdaFunction } from './lambda-function.js';
import { lambdaInvokeConfig } from './lambda-invoke-config.js';
import { lambdaLogGroup } from './lambda-log-group.js';
import { lambdaPermission } from './lambda-permission.js';
import { lambdaRole } from './lambda-role.js';
import { operatorPolicyResource } from './operator-policy.js';
import { queueTarget } from './queue-target.js';
import { rule } from './rule.js';
import { ruleTarget } from './rule-target.js';

export const RESOURCES: readonly AnyResource[] = [
  inputBucket,
  outputBucket,
  jobRole,
  ...jobTemplateResources,
  rule,
  connection,
  apiDestination,
  invokeRole,
  deadLetterQueue,
  ruleTarget,
  eventQueue,
  queueTarget,
  operatorPolicyResource,
  alarmTopic,
  alarmEmail,
  failedInvocationsAlarm,
  retryAttemptsAlarm,
  sentToDlqAlarm,
  dlqMessagesAlarm,
  lambdaRole,
  lambdaLogGroup,
  lambdaFunction,
  lambdaInvokeConfig,
  lambdaPermission,
  bucketNotification,
  lambdaErrorsAlarm,
  archive,
];

/** Buckets hold user data: teardown keeps them unless asked (--delete-buckets). */
export const DATA_RESOURCES: ReadonlySet<string> = new Set([inputBucket.id, outputBucket.id]);
/** Logs: teardown deletes them unless asked to keep them (--keep-logs). */
export const LOG_RESOURCES: ReadonlySet<string> = new Set([lambdaLogGroup.id]);
