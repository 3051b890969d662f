/**
 * The trigger function's asynchronous invocation settings (PutFunctionEventInvokeConfig): how often Lambda retries a
 * failed S3 event and for how long, and where an event that failed every attempt goes — the dead-letter queue, as an
 * on-failure destination, so no upload is silently left without a job. Retrying is safe because the handler starts at
 * most one job per object version (src/lambda/handler.ts).
 *
 * Lambda's limits (docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html): 0-2 retries
 * (2 by default, after about 1 and then about 2 more minutes), maximum event age 60-21600 s (6 h by default).
 * vidpipe sets both explicitly: 2 retries, and 6 hours, so a throttled burst of uploads is not dropped early.
 */
import { change, type Difference } from '../diff.js';
import { arns, triggerNames } from '../names.js';
import type { ResourceModule } from '../types.js';
import { call, deleteIfExists, readOrUndefined } from './common.js';
import { triggerWanted } from './lambda-role.js';

export const LAMBDA_MAX_RETRY_ATTEMPTS = 2;
export const LAMBDA_MAX_EVENT_AGE_SECONDS = 21_600;

interface InvokeConfigDesired {
  functionName: string;
  maximumRetryAttempts: number;
  maximumEventAgeInSeconds: number;
  /** The DLQ's ARN, or undefined when the config turns the DLQ off. */
  onFailure?: string;
}

interface InvokeConfigObserved {
  maximumRetryAttempts?: number;
  maximumEventAgeInSeconds?: number;
  onFailure?: string;
}

export const lambdaInvokeConfig: ResourceModule<InvokeConfigDesired, InvokeConfigObserved> = {
  id: 'lambda-invoke-config',
  kind: 'Lambda async invoke config',
  // Lambda checks that the execution role may send to the destination (lambda-role grants sqs:SendMessage on it).
  dependsOn: ['lambda-function', 'lambda-role', 'dead-letter-queue'],
  name: (env) => triggerNames(env.config.app).lambdaFunction,
  desired(env) {
    if (!triggerWanted(env)) return undefined;
    return {
      functionName: triggerNames(env.config.app).lambdaFunction,
      maximumRetryAttempts: LAMBDA_MAX_RETRY_ATTEMPTS,
      maximumEventAgeInSeconds: LAMBDA_MAX_EVENT_AGE_SECONDS,
      ...(env.config.deadLetterQueue ? { onFailure: arns.queue(env, env.names.deadLetterQueue) } : {}),
    };
  },

  async observe(aws, env) {
    const FunctionName = triggerNames(env.config.app).lambdaFunction;
    const lambda = await aws.lambda();
    const m = await import('@aws-sdk/client-lambda');
    // ResourceNotFoundException both when the function and when its config does not exist.
    const out = await readOrUndefined('lambda:GetFunctionEventInvokeConfig', FunctionName, () =>
      lambda.send(new m.GetFunctionEventInvokeConfigCommand({ FunctionName })),
    );
    if (!out) return undefined;
    return {
      ...(out.MaximumRetryAttempts !== undefined ? { maximumRetryAttempts: out.MaximumRetryAttempts } : {}),
      ...(out.MaximumEventAgeInSeconds !== undefined ? { maximumEventAgeInSeconds: out.MaximumEventAgeInSeconds } : {}),
      ...(out.DestinationConfig?.OnFailure?.Destination ? { onFailure: out.DestinationConfig.OnFailure.Destination } : {}),
    };
  },

  diff(d, o) {
    const reasons: Difference[] = [];
    if (o.maximumRetryAttempts !== d.maximumRetryAttempts) reasons.push(change('MaximumRetryAttempts', o.maximumRetryAttempts, d.maximumRetryAttempts));
    if (o.maximumEventAgeInSeconds !== d.maximumEventAgeInSeconds) reasons.push(change('MaximumEventAgeInSeconds', o.maximumEventAgeInSeconds, d.maximumEventAgeInSeconds));
    if (o.onFailure !== d.onFailure) reasons.push(change('OnFailure destination', o.onFailure, d.onFailure));
    return reasons;
  },

  async apply(aws, d, o) {
    const lambda = await aws.lambda();
    const m = await import('@aws-sdk/client-lambda');
    // Put replaces the whole config ("If you exclude any settings, they are removed", API_PutFunctionEventInvokeConfig),
    // but an emulator (moto 5.2) keeps a destination left out of the Put: drop the old config first when the
    // destination goes away, which is right on AWS too.
    if (o?.onFailure && !d.onFailure)
      await deleteIfExists('lambda:DeleteFunctionEventInvokeConfig', d.functionName, () =>
        lambda.send(new m.DeleteFunctionEventInvokeConfigCommand({ FunctionName: d.functionName })),
      );
    await call('lambda:PutFunctionEventInvokeConfig', d.functionName, () =>
      lambda.send(
        new m.PutFunctionEventInvokeConfigCommand({
          FunctionName: d.functionName,
          MaximumRetryAttempts: d.maximumRetryAttempts,
          MaximumEventAgeInSeconds: d.maximumEventAgeInSeconds,
          DestinationConfig: d.onFailure ? { OnFailure: { Destination: d.onFailure } } : {},
        }),
      ),
    );
    return { maximumRetryAttempts: d.maximumRetryAttempts, maximumEventAgeInSeconds: d.maximumEventAgeInSeconds, ...(d.onFailure ? { onFailure: d.onFailure } : {}) };
  },

  async destroy(aws, _o, env) {
    const FunctionName = triggerNames(env.config.app).lambdaFunction;
    const lambda = await aws.lambda();
    const m = await import('@aws-sdk/client-lambda');
    await deleteIfExists('lambda:DeleteFunctionEventInvokeConfig', FunctionName, () => lambda.send(new m.DeleteFunctionEventInvokeConfigCommand({ FunctionName })));
  },

  details: (o) => ({ retries: o.maximumRetryAttempts ?? '?', 'on failure': o.onFailure ? o.onFailure.replace(/^.*:/, '') : 'dropped' }),
};
