/** An alarm on the trigger function's Errors (AWS/Lambda): a job that never starts is the failure users report most. */
import { triggerNames } from '../names.js';
import { alarmModule } from './alarms.js';
import { triggerWanted } from './lambda-role.js';

export const lambdaErrorsAlarm = alarmModule(
  'alarm:lambda-errors',
  (env) =>
    triggerWanted(env)
      ? {
          name: triggerNames(env.config.app).alarmLambdaErrors,
          namespace: 'AWS/Lambda',
          metric: 'Errors',
          dimension: { Name: 'FunctionName', Value: triggerNames(env.config.app).lambdaFunction },
          statistic: 'Sum',
          description: 'vidpipe: the upload trigger failed to start a MediaConvert job (see its CloudWatch logs)',
        }
      : undefined,
  (env) => triggerNames(env.config.app).alarmLambdaErrors,
);
