/** The delivery mode at the edges: init's flag, the config schema, checkListenerUrl, and simulate's --via sqs flags. */
import { describe, expect, it } from 'vitest';
import { parseSimulateOptions } from '../../src/cli/commands/simulate-complete.js';
import { defaultConfig, deliveryOf, parseDelivery, usesApiDestination, usesEventQueue, validateConfig } from '../../src/config/config.js';
import { buildInitConfig } from '../../src/config/init.js';
import { UsageError } from '../../src/errors.js';
import { checkListenerUrl } from '../../src/provision/service.js';

const noTty = { yes: false, interactive: false };
const parse = (o: Record<string, unknown>) => parseSimulateOptions(o, '/tmp/x/vidpipe.config.json');
const thrown = (fn: () => unknown): UsageError => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
};

describe('delivery mode', () => {
  it('defaults to api-destination; sqs and both use the queue, only sqs drops the API destination', () => {
    const base = defaultConfig('demo');
    expect(deliveryOf(base)).toBe('api-destination');
    expect([usesApiDestination(base), usesEventQueue(base)]).toEqual([true, false]);
    expect([usesApiDestination({ delivery: 'sqs' }), usesEventQueue({ delivery: 'sqs' })]).toEqual([false, true]);
    expect([usesApiDestination({ delivery: 'both' }), usesEventQueue({ delivery: 'both' })]).toEqual([true, true]);
  });

  it('a bad value is named with the choices: flag and config field', async () => {
    expect(parseDelivery('both')).toBe('both');
    const err = thrown(() => parseDelivery('SQS'));
    expect(err.message).toBe('--delivery must be one of api-destination, sqs, both, got "SQS".');
    expect(err.exitCode).toBe(2);
    const bad = await validateConfig({ ...defaultConfig('demo'), delivery: 'webhook' }, 'vidpipe.config.json').catch((e: unknown) => e as UsageError);
    expect(bad).toBeInstanceOf(UsageError);
    expect((bad as UsageError).message).toContain('delivery: must be one of api-destination, sqs, both');
  });

  it('init: --delivery sqs asks for no listener URL; the field is written only when given', async () => {
    const sqs = await buildInitConfig({ app: 'demo', delivery: 'sqs' }, noTty, '/x', {});
    expect(sqs.delivery).toBe('sqs');
    expect(sqs.listener.url).toBeUndefined();
    expect((await buildInitConfig({ app: 'demo' }, noTty, '/x', {})).delivery).toBeUndefined();
    await expect(buildInitConfig({ app: 'demo', delivery: 'pull' }, noTty, '/x', {})).rejects.toThrow('--delivery must be one of');
  });

  it('setup needs an HTTPS listener URL only when there is an API destination', () => {
    const config = { ...defaultConfig('demo'), listener: { auth: 'API_KEY' as const, authHeader: 'x-api-key' } };
    expect(checkListenerUrl({ ...config, delivery: 'sqs' })).toBeUndefined();
    expect(thrown(() => checkListenerUrl({ ...config, delivery: 'both' })).code).toBe('LISTENER_URL_MISSING');
    expect(thrown(() => checkListenerUrl(config)).hint).toContain('--delivery sqs');
  });

  it('simulate-complete: --via sqs with an optional --queue-url; --queue-url and --to each with their own via', () => {
    expect(parse({ via: 'sqs' })).toMatchObject({ via: 'sqs' });
    expect(parse({ via: 'sqs' }).queueUrl).toBeUndefined();
    expect(parse({ via: 'sqs', queueUrl: 'https://sqs.us-east-1.amazonaws.com/1/demo-events' }).queueUrl?.href).toBe('https://sqs.us-east-1.amazonaws.com/1/demo-events');
    expect(thrown(() => parse({ via: 'sqs', queueUrl: 'demo-events' })).code).toBe('BAD_URL');
    expect(thrown(() => parse({ queueUrl: 'https://q.example/1/q' })).code).toBe('QUEUE_URL_WITHOUT_SQS');
    expect(thrown(() => parse({ via: 'sqs', to: 'http://x' })).message).toContain('--via sqs sends to the event queue');
    expect(thrown(() => parse({ via: 'sqs', source: 'x.y' })).code).toBe('SOURCE_WITHOUT_EVENTBRIDGE');
  });
});
