/** `vidpipe policy`: prints the operator's least-privilege IAM policy as JSON (setup also creates it as a managed policy). */
import type { Command } from 'commander';
import { REGION_HINT } from '../../aws/region.js';
import { AwsAccessError, UsageError } from '../../errors.js';
import { addAwsOptions, awsOptionsFrom, awsTargetFrom, commandContext } from '../context.js';
import { summaryOf } from './index.js';

export function registerPolicy(program: Command): void {
  const cmd = program
    .command('policy')
    .description(summaryOf('policy'))
    .option('--account <id>', 'the AWS account id (default: asked of STS with your credentials)');
  addAwsOptions(cmd).action(async (opts: Record<string, unknown>, command: Command) => {
    const { globals, out } = commandContext(command);
    const { requireConfig } = await import('../../config/config.js');
    const { operatorPolicy } = await import('../../provision/documents.js');
    const { openAwsSession } = await import('../aws-session.js');

    const config = await requireConfig(globals.configPath);
    let accountId = typeof opts.account === 'string' ? opts.account : undefined;
    if (accountId !== undefined && !/^\d{12}$/.test(accountId))
      throw new UsageError('BAD_ACCOUNT', `--account must be a 12-digit AWS account id, got "${accountId}".`);
    const session = openAwsSession(awsTargetFrom(awsOptionsFrom(opts), config.region), out);
    try {
      const region = session.aws.region;
      if (!region)
        throw new UsageError('AWS_REGION_MISSING', 'No AWS region is set.', { hint: REGION_HINT });
      accountId ??= await session.aws.accountId().catch((err: unknown) => {
        // The account id is all the policy needs from AWS: say that it can be given instead.
        if (err instanceof AwsAccessError && err.code === 'AWS_CREDENTIALS')
          throw new AwsAccessError(err.code, err.message, { hint: `${err.hint ? `${err.hint}\n` : ''}Or pass --account ID: the policy needs only your account id.`, cause: err });
        throw err;
      });
      const policy = operatorPolicy(config, { region, accountId });
      // The document is the result in both modes: it is meant to be piped into `aws iam create-policy`.
      out.result(policy, () => JSON.stringify(policy, null, 2));
    } finally {
      session.close();
    }
  });
}
