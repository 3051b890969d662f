/**
 * The AWS context of one command run, from --profile/--region/--endpoint-url and the config's region: with
 * --verbose, every AWS call is logged to stderr (service + command), and the calls are counted for the summary.
 */
import { createAwsContext, type AwsContext } from '../aws/context.js';
import type { Output } from '../output/output.js';
import { awsOptionsFrom } from './context.js';

export interface AwsSession {
  aws: AwsContext;
  /** AWS requests made so far. */
  calls(): number;
  /** Milliseconds since the session opened. */
  elapsed(): number;
  close(): void;
}

export function openAwsSession(opts: Record<string, unknown>, out: Output, configRegion?: string): AwsSession {
  const cli = awsOptionsFrom(opts);
  let count = 0;
  const started = Date.now();
  const aws = createAwsContext({
    ...(cli.profile ? { profile: cli.profile } : {}),
    ...(cli.region ?? configRegion ? { region: cli.region ?? configRegion } : {}),
    ...(cli.endpointUrl ? { endpointUrl: cli.endpointUrl } : {}),
    onCall(service, command) {
      count++;
      out.debug(`aws ${service} ${command.replace(/Command$/, '')}`);
    },
  });
  return { aws, calls: () => count, elapsed: () => Date.now() - started, close: () => aws.destroy() };
}
