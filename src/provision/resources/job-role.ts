/** The role MediaConvert jobs run as: trusted by mediaconvert.amazonaws.com, reads the input bucket, writes the output bucket. */
import { jobRoleAccess, jobRoleTrust } from '../documents.js';
import { roleModule } from './iam-role.js';

export const jobRole = roleModule({
  id: 'job-role',
  dependsOn: ['input-bucket', 'output-bucket'],
  name: (env) => env.names.jobRole,
  description: 'vidpipe: MediaConvert jobs read the input bucket and write the output bucket',
  trust: (env) => jobRoleTrust(env),
  access: (env) => jobRoleAccess(env, env.names.inputBucket, env.names.outputBucket),
});
