/**
 * The IAM and resource policies vidpipe writes, as pure functions of names and ARNs: least privilege, each with the
 * AWS page it follows. `vidpipe policy` prints operatorPolicy(); setup compares these with what AWS returns.
 */
import { archiveRetentionDays, usesEventQueue, type VidpipeConfig } from '../config/config.js';
import { MEDIACONVERT_DETAIL_TYPE, MEDIACONVERT_SOURCE } from '../events/types.js';
import { jobTemplateResourceName } from '../../templates/job-templates.js';
import { archiveName, arns, partitionOf, resourceNames, type ArnContext } from './names.js';

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: Record<string, unknown>[];
}

const doc = (...Statement: Record<string, unknown>[]): PolicyDocument => ({ Version: '2012-10-17', Statement });

/**
 * MediaConvert assumes the job role; aws:SourceAccount guards against the confused deputy
 * (mediaconvert/latest/ug/cross-service-confused-deputy-prevention.html).
 */
export function jobRoleTrust(c: ArnContext): PolicyDocument {
  return doc({
    Effect: 'Allow',
    Principal: { Service: 'mediaconvert.amazonaws.com' },
    Action: 'sts:AssumeRole',
    Condition: { StringEquals: { 'aws:SourceAccount': c.accountId } },
  });
}

/** Read the input bucket, write the output bucket, nothing else (the console's default role grants S3 full access). */
export function jobRoleAccess(c: ArnContext, inputBucket: string, outputBucket: string): PolicyDocument {
  return doc(
    { Sid: 'ReadInput', Effect: 'Allow', Action: 's3:GetObject', Resource: `${arns.bucket(inputBucket, c)}/*` },
    { Sid: 'WriteOutput', Effect: 'Allow', Action: 's3:PutObject', Resource: `${arns.bucket(outputBucket, c)}/*` },
  );
}

/**
 * EventBridge assumes the invoke role for this rule only: EventBridge sets aws:SourceArn to the rule sending the event
 * and aws:SourceAccount to its account (condition-key table in eventbridge/latest/userguide/eb-use-conditions.html).
 */
export function invokeRoleTrust(c: ArnContext, ruleName: string): PolicyDocument {
  return doc({
    Effect: 'Allow',
    Principal: { Service: 'events.amazonaws.com' },
    Action: 'sts:AssumeRole',
    Condition: { StringEquals: { 'aws:SourceAccount': c.accountId }, ArnEquals: { 'aws:SourceArn': arns.rule(c, ruleName) } },
  });
}

/** Only events:InvokeApiDestination, only on this destination. */
export function invokeRoleAccess(apiDestinationArn: string): PolicyDocument {
  return doc({ Sid: 'InvokeListener', Effect: 'Allow', Action: 'events:InvokeApiDestination', Resource: apiDestinationArn });
}

/** A queue policy statement: EventBridge may send to this queue on behalf of exactly this rule (aws:SourceArn). */
function ruleMaySend(Sid: string, c: ArnContext, queueName: string, ruleName: string): PolicyDocument {
  return doc({
    Sid,
    Effect: 'Allow',
    Principal: { Service: 'events.amazonaws.com' },
    Action: 'sqs:SendMessage',
    Resource: arns.queue(c, queueName),
    Condition: { ArnEquals: { 'aws:SourceArn': arns.rule(c, ruleName) } },
  });
}

/** The DLQ accepts messages from exactly this rule (eventbridge/latest/userguide/eb-rule-dlq.html). */
export function deadLetterQueuePolicy(c: ArnContext, queueName: string, ruleName: string): PolicyDocument {
  return ruleMaySend('EventBridgeDeadLetters', c, queueName, ruleName);
}

/**
 * The event queue (SQS delivery) accepts messages from exactly this rule: an SQS target needs a queue policy, not a
 * role (eventbridge/latest/userguide/eb-use-resource-based.html#eb-sqs-permissions), and aws:SourceArn keeps any
 * other rule or account from writing into it.
 */
export function eventQueuePolicy(c: ArnContext, queueName: string, ruleName: string): PolicyDocument {
  return ruleMaySend('EventBridgeDelivery', c, queueName, ruleName);
}

/** The rule's event pattern: MediaConvert job state changes with the configured statuses (+ the simulator's source). */
export function eventPattern(config: Pick<VidpipeConfig, 'statuses' | 'allowSimulatorSource' | 'simulatorSource'>): Record<string, unknown> {
  return {
    source: config.allowSimulatorSource ? [MEDIACONVERT_SOURCE, config.simulatorSource] : [MEDIACONVERT_SOURCE],
    'detail-type': [MEDIACONVERT_DETAIL_TYPE],
    detail: { status: [...config.statuses] },
  };
}

/**
 * What an operator needs day to day (upload, start jobs from vidpipe's templates, follow them, simulate an event)
 * and no more: a tightened version of the original system's "Required IAM Permissions". Provisioning itself
 * (setup/teardown) needs an administrator.
 */
export function operatorPolicy(config: VidpipeConfig, c: ArnContext): PolicyDocument {
  const names = resourceNames(config);
  const input = arns.bucket(names.inputBucket, c);
  const statements: Record<string, unknown>[] = [
    {
      Sid: 'UploadToInputBucket',
      Effect: 'Allow',
      // Multipart uploads (lib-storage) need PutObject for create/part/complete and AbortMultipartUpload to clean up.
      Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      Resource: `${input}/*`,
    },
    { Sid: 'ListInputUploads', Effect: 'Allow', Action: 's3:ListBucketMultipartUploads', Resource: input },
    { Sid: 'ReadOutputs', Effect: 'Allow', Action: 's3:GetObject', Resource: `${arns.bucket(names.outputBucket, c)}/*` },
    ...startJobStatements(config, c),
    { Sid: 'FollowJobs', Effect: 'Allow', Action: 'mediaconvert:GetJob', Resource: arns.mediaconvert(c, 'jobs/*') },
  ];
  if (config.allowSimulatorSource)
    statements.push({
      Sid: 'SimulateEvents',
      Effect: 'Allow',
      Action: 'events:PutEvents',
      Resource: arns.defaultBus(c),
      Condition: { StringEquals: { 'events:source': config.simulatorSource } },
    });
  statements.push(...operationsStatements(config, c));
  return doc(...statements);
}

/**
 * What `vidpipe dlq` and `vidpipe replay` need: read, release and delete dead letters (ChangeMessageVisibility puts a
 * message back for the next reader), and replay the archive (StartReplay authorizes on the archive, the replay
 * status calls on the replay; ListReplays has no resource type, service authorization reference for EventBridge).
 */
function operationsStatements(config: VidpipeConfig, c: ArnContext): Record<string, unknown>[] {
  const names = resourceNames(config);
  const statements: Record<string, unknown>[] = [];
  if (config.deadLetterQueue)
    statements.push({
      Sid: 'ReadAndRedriveDeadLetters',
      Effect: 'Allow',
      Action: ['sqs:GetQueueUrl', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage'],
      Resource: arns.queue(c, names.deadLetterQueue),
    });
  if (usesEventQueue(config)) {
    // `vidpipe listen --pull`: long-poll, delete after commit, extend or release visibility. The batch calls
    // (DeleteMessageBatch, ChangeMessageVisibilityBatch) have no IAM action of their own: they are authorized by
    // sqs:DeleteMessage and sqs:ChangeMessageVisibility (SQS developer guide, sqs-api-permissions-reference.html).
    statements.push({
      Sid: 'PullEvents',
      Effect: 'Allow',
      Action: ['sqs:GetQueueUrl', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
      Resource: arns.queue(c, names.eventQueue),
    });
    // `simulate-complete --via sqs` writes an event straight into the queue: only where the config allows simulation.
    if (config.allowSimulatorSource)
      statements.push({ Sid: 'SimulateEventsToQueue', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arns.queue(c, names.eventQueue) });
  }
  if (archiveRetentionDays(config) > 0)
    statements.push(
      {
        Sid: 'ReplayArchive',
        Effect: 'Allow',
        Action: ['events:StartReplay', 'events:DescribeReplay', 'events:CancelReplay', 'events:DescribeArchive'],
        Resource: [arns.archive(c, archiveName(config.app)), arns.replay(c, `${config.app}-*`)],
      },
      { Sid: 'ListReplays', Effect: 'Allow', Action: 'events:ListReplays', Resource: '*' },
    );
  return statements;
}

/** IAM returns policy documents URL-encoded (GetRole, GetRolePolicy, GetPolicyVersion); moto sometimes does not. */
export function parsePolicyDocument(text: string | undefined): unknown {
  if (!text) return undefined;
  const raw = text.trimStart().startsWith('{') ? text : decodeURIComponent(text);
  return JSON.parse(raw);
}

/**
 * true when every field of `desired` is in `observed` with the same value: AWS fills defaults into what it returns
 * (MediaConvert adds dozens to a template's settings), so an equality test would see drift forever.
 */
export function containsJson(observed: unknown, desired: unknown): boolean {
  if (Array.isArray(desired))
    return Array.isArray(observed) && observed.length === desired.length && desired.every((d, i) => containsJson(observed[i], d));
  if (desired && typeof desired === 'object') {
    if (!observed || typeof observed !== 'object' || Array.isArray(observed)) return false;
    return Object.entries(desired).every(([k, v]) => v === undefined || containsJson((observed as Record<string, unknown>)[k], v));
  }
  return observed === desired;
}

/** Lambda assumes the trigger's execution role. */
export function lambdaRoleTrust(): PolicyDocument {
  return doc({ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' });
}

/** What starting a job takes: CreateJob from these templates, and passing the job role to MediaConvert only. */
function startJobStatements(config: VidpipeConfig, c: ArnContext): Record<string, unknown>[] {
  return [
    {
      Sid: 'CreateJobsFromTemplates',
      Effect: 'Allow',
      // CreateJob authorizes the job, the template and the queue (service-authorization reference for MediaConvert).
      Action: 'mediaconvert:CreateJob',
      Resource: [
        arns.mediaconvert(c, 'jobs/*'),
        arns.mediaconvert(c, 'queues/Default'),
        ...config.templates.map((t) => arns.jobTemplate(c, jobTemplateResourceName(config.app, t))),
      ],
    },
    {
      Sid: 'PassJobRole',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: arns.role(c, resourceNames(config).jobRole),
      Condition: { StringEquals: { 'iam:PassedToService': 'mediaconvert.amazonaws.com' } },
    },
  ];
}

/**
 * The trigger function's own log group; reading uploaded objects (HeadObject is authorized by s3:GetObject — there is
 * no s3:HeadObject action — and by s3:GetObjectVersion when the record names a version, as it does on a versioned
 * bucket); reading and writing the `vidpipe:job-id` tag that makes a job start at most once per object version
 * (s3:Get/PutObjectTagging, and the …VersionTagging actions when a VersionId is given: S3 actions, resources and
 * condition keys, docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html); creating jobs from
 * this app's templates and passing the job role to MediaConvert only; listing jobs to find one an attempt that died
 * may have started; and sending what fails every attempt to the
 * dead-letter queue, the function's on-failure destination (Lambda sends it with the execution role:
 * docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html). All on this app's resources only.
 */
export function lambdaRoleAccess(config: VidpipeConfig, c: ArnContext, functionName: string): PolicyDocument {
  const names = resourceNames(config);
  const logGroup = `arn:${partitionOf(c.region)}:logs:${c.region}:${c.accountId}:log-group:/aws/lambda/${functionName}`;
  const uploads = `${arns.bucket(names.inputBucket, c)}/*`;
  return doc(
    { Sid: 'OwnLogGroup', Effect: 'Allow', Action: 'logs:CreateLogGroup', Resource: logGroup },
    { Sid: 'OwnLogStreams', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `${logGroup}:*` },
    { Sid: 'ReadUploads', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: uploads },
    {
      Sid: 'RecordStartedJob',
      Effect: 'Allow',
      Action: ['s3:GetObjectTagging', 's3:GetObjectVersionTagging', 's3:PutObjectTagging', 's3:PutObjectVersionTagging'],
      Resource: uploads,
    },
    ...startJobStatements(config, c),
    // Read-only: after an attempt that died between its pending marker and CreateJob, the handler looks for the job
    // it may have created (by ClientRequestToken) before creating one. ListJobs lists the account's jobs; it is granted
    // on "*" here because it names no job or template to scope it to.
    { Sid: 'FindStartedJob', Effect: 'Allow', Action: 'mediaconvert:ListJobs', Resource: '*' },
    ...(config.deadLetterQueue
      ? [{ Sid: 'FailedInvocationsToDlq', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arns.queue(c, names.deadLetterQueue) }]
      : []),
  );
}
