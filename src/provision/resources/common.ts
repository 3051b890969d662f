/** Small helpers the resource modules share: error names meaning "absent", the app tag, guarded AWS calls. */
import { awsCall, awsErrorName, httpStatusOf } from '../../aws/errors.js';
import type { QueueAttributeName } from '@aws-sdk/client-sqs';
import type { AwsContext } from '../../aws/context.js';
import { VidpipeError } from '../../errors.js';
import { APP_TAG_KEY } from '../names.js';
import type { ProvisionEnv } from '../types.js';

/** true when an AWS error means the thing does not exist (each service spells it its own way). */
export function isNotFound(err: unknown): boolean {
  const name = awsErrorName(err);
  return (
    /NotFound|NoSuch|NonExistent|DoesNotExist/i.test(name) ||
    name === 'ResourceNotFoundException' ||
    name === 'AWS.SimpleQueueService.NonExistentQueue' ||
    (httpStatusOf(err) === 404 && name !== 'AccessDenied')
  );
}

/** Runs a read; undefined when the resource does not exist, a translated error otherwise. */
export async function readOrUndefined<T>(action: string, resource: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    return awsCall({ action, resource }, () => Promise.reject(err));
  }
}

/** Runs a delete; a resource already gone counts as deleted (teardown must be re-runnable). */
export async function deleteIfExists(action: string, resource: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (isNotFound(err)) return;
    await awsCall({ action, resource }, () => Promise.reject(err));
  }
}

export const call = <T>(action: string, resource: string, fn: () => Promise<T>) => awsCall({ action, resource }, fn);

/** Tags in the Key/Value list form most services use. */
export function appTags(env: ProvisionEnv): { Key: string; Value: string }[] {
  return [{ Key: APP_TAG_KEY, Value: env.config.app }];
}

export function appTagMap(env: ProvisionEnv): Record<string, string> {
  return { [APP_TAG_KEY]: env.config.app };
}

/**
 * Runs a CreateQueue; SQS refuses to re-create a queue of the same name for 60 s after DeleteQueue (e.g. setup right
 * after teardown): that refusal is explained, anything else translated.
 */
export async function createQueue<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (/QueueDeletedRecently/.test(awsErrorName(err)))
      throw new VidpipeError('QUEUE_DELETED_RECENTLY', `The SQS queue ${name} was deleted less than 60 s ago and cannot be re-created yet.`, {
        hint: 'Wait a minute and run `vidpipe setup` again: it continues where this run stopped.',
        cause: err,
      });
    return call('sqs:CreateQueue', name, () => Promise.reject(err));
  }
}

/** A queue's URL and the attributes asked for, read by name; undefined when there is no such queue. */
export async function readQueue(aws: AwsContext, QueueName: string, AttributeNames: QueueAttributeName[]): Promise<{ url: string; attributes: Record<string, string> } | undefined> {
  const sqs = await aws.sqs();
  const m = await import('@aws-sdk/client-sqs');
  const url = await readOrUndefined('sqs:GetQueueUrl', QueueName, () => sqs.send(new m.GetQueueUrlCommand({ QueueName })));
  if (!url?.QueueUrl) return undefined;
  const QueueUrl = url.QueueUrl;
  const out = await readOrUndefined('sqs:GetQueueAttributes', QueueName, () =>
    sqs.send(new m.GetQueueAttributesCommand({ QueueUrl, AttributeNames })),
  );
  return out ? { url: QueueUrl, attributes: out.Attributes ?? {} } : undefined;
}
