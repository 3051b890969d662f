/** The role EventBridge assumes to call the API destination: events:InvokeApiDestination on that destination only. */
import { usesApiDestination } from '../../config/config.js';
import { invokeRoleAccess, invokeRoleTrust } from '../documents.js';
import { roleModule } from './iam-role.js';

export const invokeRole = roleModule({
  id: 'invoke-role',
  dependsOn: ['api-destination'],
  name: (env) => env.names.invokeRole,
  description: 'vidpipe: EventBridge invokes the listener API destination',
  // An SQS target needs no role (the queue policy grants EventBridge): none in SQS delivery alone.
  wanted: (env) => usesApiDestination(env.config),
  trust: (env) => invokeRoleTrust(env, env.names.rule),
  // The destination's ARN ends in a UUID AWS chooses: known only once it exists.
  access: (_env, world) => {
    const arn = world.get('api-destination')?.arn;
    return arn ? invokeRoleAccess(arn) : undefined;
  },
  waitingFor: 'the API destination',
});
