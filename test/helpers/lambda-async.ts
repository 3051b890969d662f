/**
 * Lambda's asynchronous invocation, modelled for tests: moto stores a function's event invoke config but never runs
 * its code (no Docker here), so the handler runs in-process under this model of what AWS documents
 * (docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html and invocation-async-retain-records.html):
 *
 *   - the event is run; on an error Lambda retries it up to MaximumRetryAttempts times, waiting about 1 minute before
 *     the first retry and about 2 minutes before the second;
 *   - an event older than MaximumEventAgeInSeconds is not run again;
 *   - when the attempts are spent, an invocation record goes to the on-failure destination:
 *     { version, timestamp, requestContext { requestId, functionArn, condition, approximateInvokeCount },
 *       requestPayload (the event), responseContext { statusCode, executedVersion, functionError },
 *       responsePayload { errorMessage, errorType } }.
 *
 * The clock is the test's: `advance(ms)` moves it (and the MediaConvert fake's, when they share it) instead of waiting.
 */
import { randomUUID } from 'node:crypto';

export interface AsyncInvokeConfig {
  maximumRetryAttempts: number;
  maximumEventAgeInSeconds: number;
  onFailure?: string;
}

export interface AsyncInvocation {
  attempts: number;
  succeeded: boolean;
  /** The record sent to the on-failure destination, if one was. */
  failureRecord?: Record<string, unknown>;
}

/** Delays before each retry (Lambda: "waits one minute before the second attempt, and two minutes before the third"). */
export const RETRY_DELAYS_MS = [60_000, 120_000];

export async function invokeAsync<E>(
  handler: (event: E) => Promise<unknown>,
  event: E,
  options: {
    config: AsyncInvokeConfig;
    functionArn: string;
    clock: { now(): number; advance(ms: number): void };
    /** Delivers the invocation record to the destination (e.g. SQS SendMessage on moto). */
    deliver(destination: string, record: Record<string, unknown>): Promise<void>;
  },
): Promise<AsyncInvocation> {
  const { config, clock } = options;
  const received = clock.now();
  let attempts = 0;
  let lastError: Error | undefined;
  for (;;) {
    attempts++;
    try {
      await handler(event);
      return { attempts, succeeded: true };
    } catch (err) {
      lastError = err as Error;
    }
    const delay = RETRY_DELAYS_MS[attempts - 1];
    if (attempts > config.maximumRetryAttempts || delay === undefined) break;
    clock.advance(delay);
    if (clock.now() - received > config.maximumEventAgeInSeconds * 1000) break;
  }
  const failureRecord = {
    version: '1.0',
    timestamp: new Date(clock.now()).toISOString(),
    requestContext: {
      requestId: randomUUID(),
      functionArn: `${options.functionArn}:$LATEST`,
      condition: attempts > config.maximumRetryAttempts ? 'RetriesExhausted' : 'EventAgeExceeded',
      approximateInvokeCount: attempts,
    },
    requestPayload: event,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorMessage: lastError?.message, errorType: lastError?.name },
  };
  if (config.onFailure) await options.deliver(config.onFailure, failureRecord);
  return { attempts, succeeded: false, failureRecord };
}
