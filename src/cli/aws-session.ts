/**
 * The AWS context of one command run, from the typed target (--profile/--region/--endpoint-url, the region resolved
 * once by src/aws/region.ts): with --verbose, every AWS call is logged to stderr (service + command), and the calls
 * are counted for the summary.
 */
import { createAwsContext, type AwsContext } from '../aws/context.js';
import type { Output } from '../output/output.js';
import type { AwsTarget } from './context.js';

export interface AwsSession {
  aws: AwsContext;
  target: AwsTarget;
  /** AWS requests made so far. */
  calls(): number;
  /** Milliseconds since the session opened. */
  elapsed(): number;
  close(): void;
}

export function openAwsSession(target: AwsTarget, out: Output): AwsSession {
  let count = 0;
  const started = Date.now();
  const aws = createAwsContext({
    ...(target.profile ? { profile: target.profile } : {}),
    ...(target.region ? { region: target.region } : {}),
    ...(target.endpointUrl ? { endpointUrl: target.endpointUrl } : {}),
    onCall(service, command) {
      count++;
      out.debug(`aws ${service} ${command.replace(/Command$/, '')}`);
    },
  });
  return { aws, target, calls: () => count, elapsed: () => Date.now() - started, close: () => aws.destroy() };
}
