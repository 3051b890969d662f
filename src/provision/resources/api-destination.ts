/**
 * The API destination: POST to the listener's public HTTPS URL through the connection, at most
 * `rateLimitPerSecond` calls a second. AWS requires HTTPS (moto accepts http://), so setup checks it first
 * (see checkListenerUrl in ../setup.ts).
 */
import { usesApiDestination } from '../../config/config.js';
import { change, type Difference } from '../diff.js';
import type { ResourceModule } from '../types.js';
import { call, deleteIfExists, readOrUndefined } from './common.js';

interface DestinationDesired {
  name: string;
  url: string;
  rate: number;
}

interface DestinationObserved {
  arn: string;
  url?: string;
  method?: string;
  rate?: number;
  connectionArn?: string;
  state?: string;
}

export const apiDestination: ResourceModule<DestinationDesired, DestinationObserved> = {
  id: 'api-destination',
  kind: 'EventBridge API destination',
  dependsOn: ['connection'],
  name: (env) => env.names.apiDestination,
  // SQS delivery alone has no API destination (setup deletes one left from api-destination delivery).
  desired: (env) =>
    usesApiDestination(env.config) ? { name: env.names.apiDestination, url: env.config.listener.url ?? '', rate: env.config.rateLimitPerSecond } : undefined,

  async observe(aws, env) {
    const Name = env.names.apiDestination;
    const eb = await aws.eventbridge();
    const m = await import('@aws-sdk/client-eventbridge');
    const out = await readOrUndefined('events:DescribeApiDestination', Name, () => eb.send(new m.DescribeApiDestinationCommand({ Name })));
    if (!out) return undefined;
    return {
      arn: out.ApiDestinationArn!,
      url: out.InvocationEndpoint,
      method: out.HttpMethod,
      rate: out.InvocationRateLimitPerSecond === undefined ? undefined : Number(out.InvocationRateLimitPerSecond),
      connectionArn: out.ConnectionArn,
      state: out.ApiDestinationState,
    };
  },

  diff(d, o, world) {
    const reasons: Difference[] = [];
    if (o.url !== d.url) reasons.push(change('InvocationEndpoint', o.url, d.url));
    if (o.method !== 'POST') reasons.push(change('HttpMethod', o.method, 'POST'));
    if (o.rate !== d.rate) reasons.push(change('InvocationRateLimitPerSecond', o.rate, d.rate));
    const connectionArn = world.get('connection')?.arn;
    if (o.connectionArn !== connectionArn) reasons.push(connectionArn ? change('ConnectionArn', o.connectionArn, connectionArn) : 'its connection is missing');
    return reasons;
  },

  async apply(aws, d, o, world, env) {
    const eb = await aws.eventbridge();
    const m = await import('@aws-sdk/client-eventbridge');
    const connectionArn = world.get('connection')?.arn;
    if (!connectionArn) throw new Error('the connection must exist before the API destination');
    const input = { Name: d.name, ConnectionArn: connectionArn, InvocationEndpoint: d.url, HttpMethod: 'POST' as const, InvocationRateLimitPerSecond: d.rate };
    const out = o
      ? await call('events:UpdateApiDestination', d.name, () => eb.send(new m.UpdateApiDestinationCommand(input)))
      : await call('events:CreateApiDestination', d.name, () =>
          eb.send(new m.CreateApiDestinationCommand({ ...input, Description: `vidpipe (${env.config.app}): the listener` })),
        );
    return { arn: out.ApiDestinationArn ?? o!.arn, url: d.url, method: 'POST', rate: d.rate, connectionArn, state: out.ApiDestinationState };
  },

  async destroy(aws, _o, env) {
    const Name = env.names.apiDestination;
    const eb = await aws.eventbridge();
    const m = await import('@aws-sdk/client-eventbridge');
    await deleteIfExists('events:DeleteApiDestination', Name, () => eb.send(new m.DeleteApiDestinationCommand({ Name })));
  },

  details: (o) => ({ state: o.state ?? 'unknown', url: o.url ?? '' }),
};
