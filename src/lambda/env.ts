/**
 * The Lambda's configuration: environment variables `setup` sets on the function and the handler reads at cold
 * start. AWS_REGION is set by Lambda itself.
 */
import { JOB_TEMPLATE_NAMES, type JobTemplateName } from '../../templates/job-templates.js';

export const LAMBDA_ENV = {
  app: 'VIDPIPE_APP',
  template: 'VIDPIPE_TEMPLATE',
  roleArn: 'VIDPIPE_JOB_ROLE_ARN',
  outputBucket: 'VIDPIPE_OUTPUT_BUCKET',
} as const;

export interface LambdaConfig {
  app: string;
  template: JobTemplateName;
  roleArn: string;
  outputBucket: string;
  region: string;
}

/** The Environment.Variables `setup` gives the function. */
export function lambdaEnvironment(config: Omit<LambdaConfig, 'region'>): Record<string, string> {
  return {
    [LAMBDA_ENV.app]: config.app,
    [LAMBDA_ENV.template]: config.template,
    [LAMBDA_ENV.roleArn]: config.roleArn,
    [LAMBDA_ENV.outputBucket]: config.outputBucket,
  };
}

export function readLambdaConfig(env: NodeJS.ProcessEnv): LambdaConfig {
  const missing = [...Object.values(LAMBDA_ENV), 'AWS_REGION'].filter((name) => !env[name]);
  if (missing.length) throw new Error(`vidpipe Lambda: missing environment variable(s) ${missing.join(', ')}; run \`vidpipe setup\` again`);
  const template = env[LAMBDA_ENV.template] as JobTemplateName;
  if (!JOB_TEMPLATE_NAMES.includes(template))
    throw new Error(`vidpipe Lambda: ${LAMBDA_ENV.template}="${template}" is not one of ${JOB_TEMPLATE_NAMES.join(', ')}`);
  return {
    app: env[LAMBDA_ENV.app]!,
    template,
    roleArn: env[LAMBDA_ENV.roleArn]!,
    outputBucket: env[LAMBDA_ENV.outputBucket]!,
    region: env.AWS_REGION!,
  };
}
