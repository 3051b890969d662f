/**
 * The upload trigger function (trigger: 'lambda'): the bundled src/lambda/handler.ts on nodejs22.x, configured by
 * environment variables. Its code is uploaded only when the bundle's sha256 differs from the function's CodeSha256
 * (the bundle is reproducible, see src/lambda/bundle.ts).
 */
import { change, jsonChanges, type Difference } from '../diff.js';
import { LAMBDA_HANDLER, LAMBDA_RUNTIME } from '../../lambda/bundle.js';
import { lambdaEnvironment } from '../../lambda/env.js';
import { sameJson } from '../../util/canonical-json.js';
import { retry } from '../../util/retry.js';
import { arns, triggerNames } from '../names.js';
import type { ProvisionEnv, ResourceModule } from '../types.js';
import { appTagMap, call, deleteIfExists, readOrUndefined } from './common.js';
import { triggerWanted } from './lambda-role.js';

// A job start is a HeadObject and a CreateJob per record, a few hundred ms each; S3 sends one record per event.
const TIMEOUT_SECONDS = 60;
const MEMORY_MB = 256;

interface FunctionDesired {
  name: string;
  runtime: string;
  handler: string;
  role: string;
  environment: Record<string, string>;
  timeout: number;
  memory: number;
  codeSha256: string;
}

interface FunctionObserved {
  arn: string;
  runtime?: string;
  handler?: string;
  role?: string;
  environment: Record<string, string>;
  timeout?: number;
  memory?: number;
  codeSha256?: string;
}

function bundleOf(env: ProvisionEnv) {
  if (!env.lambdaBundle) throw new Error('the Lambda bundle was not built for this plan');
  return env.lambdaBundle;
}

function configurationDiffers(d: FunctionDesired, o: FunctionObserved): Difference[] {
  const reasons: Difference[] = [];
  if (o.runtime !== d.runtime) reasons.push(change('Runtime', o.runtime, d.runtime));
  if (o.handler !== d.handler) reasons.push(change('Handler', o.handler, d.handler));
  if (o.timeout !== d.timeout) reasons.push(change('Timeout', o.timeout, d.timeout));
  if (o.memory !== d.memory) reasons.push(change('MemorySize', o.memory, d.memory));
  if (o.role !== d.role) reasons.push(change('Role', o.role, d.role));
  if (!sameJson(o.environment, d.environment)) reasons.push(...jsonChanges('Environment', o.environment, d.environment));
  return reasons;
}

/**
 * IAM is eventually consistent: a role created seconds ago may not be assumable by Lambda yet (it says so in a 400).
 * Up to 9 attempts with the shared backoff (1 s doubling, capped at 8 s, full jitter): ~30 s at most, beyond the few
 * seconds IAM usually takes.
 */
function retryWhileRoleNotReady<T>(fn: () => Promise<T>): Promise<T> {
  return retry(fn, {
    attempts: 9,
    baseMs: 1000,
    maxMs: 8000,
    // call() wraps the SDK's error in a VidpipeError: look at its cause too.
    retryable: (err) => [err, (err as Error).cause].some((e) => (e as Error)?.name === 'InvalidParameterValueException' && /role|assume/i.test((e as Error).message)),
  });
}

export const lambdaFunction: ResourceModule<FunctionDesired, FunctionObserved> = {
  id: 'lambda-function',
  kind: 'Lambda function',
  dependsOn: ['lambda-role', 'job-role'],
  name: (env) => triggerNames(env.config.app).lambdaFunction,
  desired(env) {
    if (!triggerWanted(env)) return undefined;
    return {
      name: triggerNames(env.config.app).lambdaFunction,
      runtime: LAMBDA_RUNTIME,
      handler: LAMBDA_HANDLER,
      role: arns.role(env, triggerNames(env.config.app).lambdaRole),
      environment: lambdaEnvironment({
        app: env.config.app,
        template: env.config.templates[0]!,
        roleArn: arns.role(env, env.names.jobRole),
        outputBucket: env.names.outputBucket,
      }),
      timeout: TIMEOUT_SECONDS,
      memory: MEMORY_MB,
      codeSha256: bundleOf(env).sha256,
    };
  },

  async observe(aws, env) {
    const FunctionName = triggerNames(env.config.app).lambdaFunction;
    const lambda = await aws.lambda();
    const m = await import('@aws-sdk/client-lambda');
    const out = await readOrUndefined('lambda:GetFunctionConfiguration', FunctionName, () => lambda.send(new m.GetFunctionConfigurationCommand({ FunctionName })));
    if (!out?.FunctionArn) return undefined;
    return {
      arn: out.FunctionArn,
      runtime: out.Runtime,
      handler: out.Handler,
      role: out.Role,
      environment: out.Environment?.Variables ?? {},
      timeout: out.Timeout,
      memory: out.MemorySize,
      codeSha256: out.CodeSha256,
    };
  },

  diff(d, o) {
    const reasons = configurationDiffers(d, o);
    if (o.codeSha256 !== d.codeSha256) reasons.push('code changed');
    return reasons;
  },

  async apply(aws, d, o, _world, env) {
    const lambda = await aws.lambda();
    const m = await import('@aws-sdk/client-lambda');
    const FunctionName = d.name;
    const settings = {
      Runtime: d.runtime as never,
      Handler: d.handler,
      Role: d.role,
      Environment: { Variables: d.environment },
      Timeout: d.timeout,
      MemorySize: d.memory,
    };
    const zip = bundleOf(env).zip;
    if (!o) {
      const created = await retryWhileRoleNotReady(() =>
        call('lambda:CreateFunction', FunctionName, () =>
          lambda.send(
            new m.CreateFunctionCommand({
              FunctionName,
              ...settings,
              Code: { ZipFile: zip },
              Description: 'vidpipe: starts a MediaConvert job for each upload to the input bucket',
              Tags: appTagMap(env),
            }),
          ),
        ),
      );
      return { arn: created.FunctionArn!, ...observedFrom(d) };
    }
    // Lambda refuses a second update while one is in progress (ResourceConflictException): wait in between.
    const settle = () => m.waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 120 }, { FunctionName });
    if (configurationDiffers(d, o).length) {
      await retryWhileRoleNotReady(() => call('lambda:UpdateFunctionConfiguration', FunctionName, () => lambda.send(new m.UpdateFunctionConfigurationCommand({ FunctionName, ...settings }))));
      await settle();
    }
    if (o.codeSha256 !== d.codeSha256) {
      await call('lambda:UpdateFunctionCode', FunctionName, () => lambda.send(new m.UpdateFunctionCodeCommand({ FunctionName, ZipFile: zip })));
      await settle();
    }
    return { arn: o.arn, ...observedFrom(d) };
  },

  async destroy(aws, _o, env) {
    const FunctionName = triggerNames(env.config.app).lambdaFunction;
    const lambda = await aws.lambda();
    const m = await import('@aws-sdk/client-lambda');
    // Its resource policy (the S3 permission) goes with it.
    await deleteIfExists('lambda:DeleteFunction', FunctionName, () => lambda.send(new m.DeleteFunctionCommand({ FunctionName })));
  },

  details: (o) => ({ runtime: o.runtime ?? '?', code: (o.codeSha256 ?? '').slice(0, 12) }),
};

function observedFrom(d: FunctionDesired): Omit<FunctionObserved, 'arn'> {
  return { runtime: d.runtime, handler: d.handler, role: d.role, environment: d.environment, timeout: d.timeout, memory: d.memory, codeSha256: d.codeSha256 };
}
