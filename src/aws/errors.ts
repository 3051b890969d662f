/**
 * The one boundary where AWS SDK and network errors become errors that say what to do (ARCHITECTURE convention 5).
 * Messages name the action and the endpoint, never a credential.
 */
import { AwsAccessError, UsageError, VidpipeError } from '../errors.js';

export interface AwsErrorContext {
  /** The IAM action that was attempted, e.g. "s3:PutObject". */
  action: string;
  /** The resource, when it helps: a bucket, a rule name. */
  resource?: string;
  endpoint?: string;
}

const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnauthorizedAccess',
  'AuthorizationError',
  'Forbidden',
]);
const BAD_CREDENTIALS = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
  'CredentialsProviderError',
  'TokenRefreshRequired',
]);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'TimeoutError']);

export function awsErrorName(err: unknown): string {
  const e = err as { name?: string; Code?: string; code?: string; cause?: { code?: string } };
  return e?.Code ?? e?.name ?? e?.code ?? 'Error';
}

export function httpStatusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

export function translateAwsError(err: unknown, ctx: AwsErrorContext): VidpipeError {
  if (err instanceof VidpipeError) return err;
  const name = awsErrorName(err);
  const message = (err as Error)?.message ?? String(err);
  const networkCode = (err as { code?: string })?.code ?? (err as { cause?: { code?: string } })?.cause?.code;
  const on = ctx.resource ? ` on ${ctx.resource}` : '';

  if (ACCESS_DENIED.has(name) || httpStatusOf(err) === 403 && /denied|not authorized/i.test(message))
    return new AwsAccessError('AWS_ACCESS_DENIED', `AWS denied ${ctx.action}${on}.`, {
      hint: `Allow ${ctx.action} for your identity: \`vidpipe policy\` prints the least-privilege policy vidpipe needs.`,
      cause: err,
      details: { action: ctx.action, awsError: name },
    });
  if (BAD_CREDENTIALS.has(name) || /Could not load credentials|credential/i.test(message) && name !== 'ValidationException')
    return new AwsAccessError('AWS_CREDENTIALS', `AWS credentials are missing, invalid or expired (${name}).`, {
      hint: 'Log in: `aws sso login --profile NAME` or `aws configure`, then pass --profile NAME (or set AWS_PROFILE).',
      cause: err,
      details: { awsError: name },
    });
  if (/Region is missing/i.test(message))
    return new UsageError('AWS_REGION_MISSING', 'No AWS region is set.', {
      hint: 'Pass --region, set "region" in vidpipe.config.json, or set AWS_REGION.',
      cause: err,
    });
  if ((networkCode && UNREACHABLE.has(networkCode)) || UNREACHABLE.has(name))
    return new AwsAccessError('AWS_UNREACHABLE', `Cannot reach the AWS endpoint${ctx.endpoint ? ` ${ctx.endpoint}` : ''} (${networkCode ?? name}) for ${ctx.action}.`, {
      hint: ctx.endpoint
        ? 'Check that the endpoint is up (an emulator must be running), or unset --endpoint-url / AWS_ENDPOINT_URL.'
        : 'Check your network connection and the region.',
      cause: err,
    });
  return new VidpipeError('AWS_ERROR', `${ctx.action}${on} failed: ${name}: ${message}`, { cause: err, details: { action: ctx.action, awsError: name } });
}

/** Runs an AWS call and translates its failure. */
export async function awsCall<T>(ctx: AwsErrorContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw translateAwsError(err, ctx);
  }
}
