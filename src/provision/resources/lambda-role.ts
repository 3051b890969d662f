/** The trigger function's execution role (trigger: 'lambda'): its own logs, reading uploads, CreateJob, PassRole on the job role. */
import { lambdaRoleAccess, lambdaRoleTrust } from '../documents.js';
import { triggerNames } from '../names.js';
import type { ProvisionEnv } from '../types.js';
import { roleModule } from './iam-role.js';

/** The trigger resources exist when the config asks for the Lambda trigger and has a template for its jobs. */
export const triggerWanted = (env: ProvisionEnv) => env.config.trigger === 'lambda' && env.config.templates.length > 0;

export const lambdaRole = roleModule({
  id: 'lambda-role',
  dependsOn: ['input-bucket', 'job-role'],
  name: (env) => triggerNames(env.config.app).lambdaRole,
  description: 'vidpipe: the upload trigger reads uploads and starts MediaConvert jobs',
  wanted: triggerWanted,
  trust: () => lambdaRoleTrust(),
  access: (env) => lambdaRoleAccess(env.config, env, triggerNames(env.config.app).lambdaFunction),
});
