/**
 * One AWS context per command (ARCHITECTURE convention 6, after aws-cdk's SdkProvider): region, profile and
 * endpoints resolved once; each client created on first use, its SDK module imported only then, so a verb that does
 * not call a service never loads it.
 *
 * Endpoints, most specific first: AWS_ENDPOINT_URL_<SERVICE> (e.g. AWS_ENDPOINT_URL_MEDIACONVERT) › --endpoint-url ›
 * AWS_ENDPOINT_URL › the service's regional endpoint. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true drops the variables,
 * as in the SDKs (sdkref feature-ss-endpoints). A custom S3 endpoint uses path-style addressing: emulators do not
 * serve bucket.host names. MediaConvert is called on its regional endpoint: DescribeEndpoints is deprecated.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { STSClient } from '@aws-sdk/client-sts';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { translateAwsError } from './errors.js';

/** Attempts per AWS call, the first included (the SDK's standard retry mode). */
export const AWS_MAX_ATTEMPTS = 3;

export interface AwsContextOptions {
  region?: string;
  profile?: string;
  /** --endpoint-url: every service, unless its own AWS_ENDPOINT_URL_<SERVICE> is set. */
  endpointUrl?: string;
  env?: NodeJS.ProcessEnv;
  /** Called once per AWS request with its service and command name (for --verbose and call counting). */
  onCall?: (service: string, command: string) => void;
}

/** The SDK's service identifiers for AWS_ENDPOINT_URL_<ID> (serviceId upper-cased, spaces → _). */
export const SERVICE_ENV_IDS = {
  s3: 'S3',
  iam: 'IAM',
  eventbridge: 'EVENTBRIDGE',
  mediaconvert: 'MEDIACONVERT',
  sqs: 'SQS',
  lambda: 'LAMBDA',
  sts: 'STS',
  cloudwatch: 'CLOUDWATCH',
  sns: 'SNS',
  logs: 'CLOUDWATCH_LOGS',
} as const;
export type ServiceName = keyof typeof SERVICE_ENV_IDS;

export function resolveEndpoint(service: ServiceName, options: Pick<AwsContextOptions, 'endpointUrl' | 'env'>): string | undefined {
  const env = options.env ?? process.env;
  const ignoreEnv = (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '').toLowerCase() === 'true';
  const perService = ignoreEnv ? undefined : env[`AWS_ENDPOINT_URL_${SERVICE_ENV_IDS[service]}`];
  const global = ignoreEnv ? undefined : env.AWS_ENDPOINT_URL;
  return perService || options.endpointUrl || global || undefined;
}

export interface AwsContext {
  readonly region: string | undefined;
  readonly profile: string | undefined;
  endpointFor(service: ServiceName): string | undefined;
  s3(): Promise<S3Client>;
  iam(): Promise<IAMClient>;
  eventbridge(): Promise<EventBridgeClient>;
  mediaconvert(): Promise<MediaConvertClient>;
  sqs(): Promise<SQSClient>;
  lambda(): Promise<LambdaClient>;
  sts(): Promise<STSClient>;
  cloudwatch(): Promise<CloudWatchClient>;
  sns(): Promise<SNSClient>;
  /** CloudWatch Logs (doctor reads the trigger function's recent errors). */
  logs(): Promise<CloudWatchLogsClient>;
  /** The caller's account id (STS GetCallerIdentity, once). */
  accountId(): Promise<string>;
  /** Closes every client made (keep-alive sockets would hold the process open). */
  destroy(): void;
}

type AnyClient = { destroy(): void; middlewareStack: { add: (...a: any[]) => void } };

export function createAwsContext(options: AwsContextOptions = {}): AwsContext {
  const env = options.env ?? process.env;
  const clients = new Map<ServiceName, Promise<AnyClient>>();
  let account: Promise<string> | undefined;

  const base = () => ({
    // vidpipe's one retry policy for AWS calls (src/util/retry.ts covers the rest): the SDK's standard mode, 3 attempts
    // in all, exponential backoff with full jitter from 100 ms, capped at 20 s, throttling and transient errors only
    // (docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html). Set here so AWS_RETRY_MODE or a profile's
    // retry_mode cannot make one run behave unlike another.
    retryMode: 'standard',
    maxAttempts: AWS_MAX_ATTEMPTS,
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
  });

  function make<T extends AnyClient>(service: ServiceName, load: (config: Record<string, unknown>) => Promise<T>): Promise<T> {
    let client = clients.get(service) as Promise<T> | undefined;
    if (!client) {
      const endpoint = resolveEndpoint(service, { endpointUrl: options.endpointUrl, env });
      const config: Record<string, unknown> = { ...base(), ...(endpoint ? { endpoint } : {}) };
      if (service === 's3' && endpoint) config.forcePathStyle = true;
      client = load(config).then((c) => {
        if (options.onCall) {
          c.middlewareStack.add(
            (next: (a: unknown) => unknown, ctx: { commandName?: string }) => (args: unknown) => {
              options.onCall?.(service, ctx.commandName ?? 'unknown');
              return next(args);
            },
            { step: 'initialize', name: 'vidpipeCallCounter' },
          );
        }
        return c;
      });
      clients.set(service, client as Promise<AnyClient>);
    }
    return client;
  }

  const ctx: AwsContext = {
    region: options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
    profile: options.profile ?? env.AWS_PROFILE,
    endpointFor: (service) => resolveEndpoint(service, { endpointUrl: options.endpointUrl, env }),
    s3: () => make('s3', async (c) => new (await import('@aws-sdk/client-s3')).S3Client(c)),
    iam: () => make('iam', async (c) => new (await import('@aws-sdk/client-iam')).IAMClient(c)),
    eventbridge: () => make('eventbridge', async (c) => new (await import('@aws-sdk/client-eventbridge')).EventBridgeClient(c)),
    mediaconvert: () => make('mediaconvert', async (c) => new (await import('@aws-sdk/client-mediaconvert')).MediaConvertClient(c)),
    sqs: () => make('sqs', async (c) => new (await import('@aws-sdk/client-sqs')).SQSClient(c)),
    lambda: () => make('lambda', async (c) => new (await import('@aws-sdk/client-lambda')).LambdaClient(c)),
    sts: () => make('sts', async (c) => new (await import('@aws-sdk/client-sts')).STSClient(c)),
    cloudwatch: () => make('cloudwatch', async (c) => new (await import('@aws-sdk/client-cloudwatch')).CloudWatchClient(c)),
    sns: () => make('sns', async (c) => new (await import('@aws-sdk/client-sns')).SNSClient(c)),
    logs: () => make('logs', async (c) => new (await import('@aws-sdk/client-cloudwatch-logs')).CloudWatchLogsClient(c)),
    accountId() {
      account ??= (async () => {
        const sts = await ctx.sts();
        const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
        try {
          const out = await sts.send(new GetCallerIdentityCommand({}));
          if (!out.Account) throw new Error('GetCallerIdentity returned no account');
          return out.Account;
        } catch (err) {
          throw translateAwsError(err, { action: 'sts:GetCallerIdentity', endpoint: ctx.endpointFor('sts') });
        }
      })();
      return account;
    },
    destroy() {
      for (const c of clients.values()) void c.then((client) => client.destroy(), () => undefined);
      clients.clear();
    },
  };
  return ctx;
}
