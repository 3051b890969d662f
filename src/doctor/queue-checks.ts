/**
 * doctor's checks for SQS delivery (`delivery: "sqs" | "both"`), beyond "exists and in sync" (which doctor gets from
 * the resource modules): the queue policy lets this rule send, the redrive policy points at the dead-letter queue, and
 * the backlog — a queue that fills up means no `vidpipe listen --pull` is reading it. Each reason is named precisely,
 * as the invoke-role check names the missing permission. Pure: the observed states come in, checks go out.
 */
import type { EventQueueObserved } from '../provision/resources/event-queue.js';
import { MAX_RECEIVE_COUNT } from '../provision/resources/event-queue.js';
import type { Check } from './doctor.js';

/**
 * Visible messages from which the backlog is a warning. A puller receives batches of 10 every few milliseconds, so a
 * healthy queue stays near 0 and a short burst (a --count simulation, many jobs finishing together) drains in
 * seconds; 100 waiting means nothing is reading, or the puller is failing on every message.
 */
export const BACKLOG_WARN_AT = 100;

type Statement = { Effect?: string; Principal?: unknown; Action?: string | string[]; Resource?: string | string[]; Condition?: Record<string, Record<string, unknown>> };

const list = <T>(v: T | T[] | undefined): T[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** true when a statement lets EventBridge send to the queue, only for this rule (aws:SourceArn, ArnEquals or ArnLike). */
export function allowsRuleToSend(policy: unknown, ruleArn: string): boolean {
  const statements = list((policy as { Statement?: Statement | Statement[] } | undefined)?.Statement);
  return statements.some((s) => {
    if (s.Effect !== 'Allow') return false;
    const principal = s.Principal as { Service?: string | string[] } | string | undefined;
    const services = typeof principal === 'object' ? list(principal.Service) : [];
    if (!services.includes('events.amazonaws.com')) return false;
    if (!list(s.Action).some((a) => a === 'sqs:SendMessage' || a === 'sqs:*' || a === '*')) return false;
    const source = [s.Condition?.ArnEquals?.['aws:SourceArn'], s.Condition?.ArnLike?.['aws:SourceArn']].flatMap((v) => list(v as string | string[] | undefined));
    return source.includes(ruleArn);
  });
}

export interface QueueCheckInput {
  queueName: string;
  ruleArn: string;
  /** The DLQ's ARN when the config wants one. */
  deadLetterArn: string | undefined;
  deadLetterName: string;
  /** undefined: the queue does not exist, or could not be read (the resource check already says which). */
  queue: EventQueueObserved | undefined;
}

export function queuePolicyCheck(input: QueueCheckInput): Check {
  const base = { hop: 'delivery', id: 'event-queue-policy', title: 'event queue policy lets only this rule send' };
  if (!input.queue) return { ...base, status: 'skip', saw: 'no event queue to read the policy of' };
  if (allowsRuleToSend(input.queue.policy, input.ruleArn))
    return { ...base, status: 'ok', saw: `events.amazonaws.com may sqs:SendMessage when aws:SourceArn is ${input.ruleArn}` };
  return {
    ...base,
    status: 'fail',
    saw: input.queue.policy
      ? `the queue policy of ${input.queueName} has no statement letting events.amazonaws.com sqs:SendMessage for aws:SourceArn ${input.ruleArn}: EventBridge's sends are refused (FailedInvocations, then the DLQ)`
      : `${input.queueName} has no queue policy: EventBridge may not send to it`,
    fix: 'vidpipe setup (writes the queue policy again)',
  };
}

export function queueRedriveCheck(input: QueueCheckInput): Check {
  const base = { hop: 'delivery', id: 'event-queue-redrive', title: 'event queue redrives to the dead-letter queue' };
  if (!input.queue) return { ...base, status: 'skip', saw: 'no event queue to read the redrive policy of' };
  const redrive = input.queue.redrive;
  if (!input.deadLetterArn)
    return redrive?.deadLetterTargetArn
      ? { ...base, status: 'warn', saw: `redrives to ${redrive.deadLetterTargetArn}, but the config has no dead-letter queue`, fix: 'vidpipe setup (removes it)' }
      : {
          ...base,
          status: 'warn',
          saw: 'no dead-letter queue (deadLetterQueue: false): a message the puller cannot use is received again and again until it expires',
          fix: 'set "deadLetterQueue": true, then vidpipe setup',
        };
  if (redrive?.deadLetterTargetArn !== input.deadLetterArn)
    return {
      ...base,
      status: 'fail',
      saw: redrive?.deadLetterTargetArn
        ? `redrives to ${redrive.deadLetterTargetArn}, not ${input.deadLetterName}`
        : `no redrive policy: a message the puller cannot use is never set aside in ${input.deadLetterName}`,
      fix: 'vidpipe setup (writes the redrive policy again)',
    };
  const count = Number(redrive.maxReceiveCount);
  return count === MAX_RECEIVE_COUNT
    ? { ...base, status: 'ok', saw: `to ${input.deadLetterName} after ${count} receives` }
    : { ...base, status: 'fail', saw: `to ${input.deadLetterName} after ${redrive.maxReceiveCount ?? '?'} receives, not ${MAX_RECEIVE_COUNT}`, fix: 'vidpipe setup' };
}

export function queueBacklogCheck(input: QueueCheckInput): Check | undefined {
  if (!input.queue) return undefined;
  const { depth, inFlight } = input.queue;
  const base = { hop: 'monitoring', id: 'event-queue-depth', title: 'event queue backlog' };
  const saw = `${depth} message(s) waiting and ${inFlight} being processed in ${input.queueName}`;
  return depth >= BACKLOG_WARN_AT
    ? { ...base, status: 'warn', saw: `${saw}: is a puller running?`, fix: 'start `vidpipe listen --pull` (it reads the queue), and read its log if one is running' }
    : { ...base, status: 'ok', saw };
}
