/** doctor's SQS-delivery checks, on observed states as SQS returns them. */
import { describe, expect, it } from 'vitest';
import { allowsRuleToSend, BACKLOG_WARN_AT, queueBacklogCheck, queuePolicyCheck, queueRedriveCheck, type QueueCheckInput } from '../../src/doctor/queue-checks.js';
import { eventQueuePolicy } from '../../src/provision/documents.js';

const c = { region: 'eu-west-1', accountId: '111122223333' };
const RULE = 'arn:aws:events:eu-west-1:111122223333:rule/demo-mediaconvert-events';
const DLQ = 'arn:aws:sqs:eu-west-1:111122223333:demo-events-dlq';
const statement = (extra: Record<string, unknown>) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: '*', ...extra }] });

/** deadLetterArn null: the config has no DLQ. */
function input(queue: Partial<NonNullable<QueueCheckInput['queue']>> | undefined, deadLetterArn: string | null = DLQ): QueueCheckInput {
  return {
    queueName: 'demo-events',
    ruleArn: RULE,
    deadLetterArn: deadLetterArn ?? undefined,
    deadLetterName: 'demo-events-dlq',
    queue: queue && { arn: 'q', url: 'u', policy: undefined, depth: 0, inFlight: 0, ...queue },
  };
}

describe('doctor: SQS delivery checks', () => {
  it('the policy setup writes allows exactly this rule', () => {
    const policy = eventQueuePolicy(c, 'demo-events', 'demo-mediaconvert-events');
    expect(allowsRuleToSend(policy, RULE)).toBe(true);
    expect(allowsRuleToSend(policy, RULE.replace('demo-mediaconvert-events', 'other'))).toBe(false);
    expect(allowsRuleToSend(statement({ Condition: { ArnLike: { 'aws:SourceArn': [RULE] } } }), RULE)).toBe(true);
    // No condition, another principal, a Deny, another action: none lets this rule send (the first is not "only").
    expect(allowsRuleToSend(statement({}), RULE)).toBe(false);
    expect(allowsRuleToSend(statement({ Principal: { Service: 'sns.amazonaws.com' }, Condition: { ArnEquals: { 'aws:SourceArn': RULE } } }), RULE)).toBe(false);
    expect(allowsRuleToSend(statement({ Effect: 'Deny', Condition: { ArnEquals: { 'aws:SourceArn': RULE } } }), RULE)).toBe(false);
    expect(allowsRuleToSend(statement({ Action: 'sqs:ReceiveMessage', Condition: { ArnEquals: { 'aws:SourceArn': RULE } } }), RULE)).toBe(false);
    expect(allowsRuleToSend(undefined, RULE)).toBe(false);
  });

  it('policy check: ok, fail naming the rule, skip without a queue', () => {
    expect(queuePolicyCheck(input({ policy: eventQueuePolicy(c, 'demo-events', 'demo-mediaconvert-events') })).status).toBe('ok');
    const fail = queuePolicyCheck(input({ policy: statement({}) }));
    expect(fail).toMatchObject({ status: 'fail', fix: 'vidpipe setup (writes the queue policy again)' });
    expect(fail.saw).toContain(`aws:SourceArn ${RULE}`);
    expect(queuePolicyCheck(input({})).saw).toBe('demo-events has no queue policy: EventBridge may not send to it');
    expect(queuePolicyCheck(input(undefined)).status).toBe('skip');
  });

  it('redrive check: to the DLQ after 5 receives (a string count too), another queue or count fails, no DLQ warns', () => {
    expect(queueRedriveCheck(input({ redrive: { deadLetterTargetArn: DLQ, maxReceiveCount: 5 } }))).toMatchObject({ status: 'ok', saw: 'to demo-events-dlq after 5 receives' });
    expect(queueRedriveCheck(input({ redrive: { deadLetterTargetArn: DLQ, maxReceiveCount: '5' } })).status).toBe('ok');
    expect(queueRedriveCheck(input({ redrive: { deadLetterTargetArn: DLQ, maxReceiveCount: 1000 } })).status).toBe('fail');
    expect(queueRedriveCheck(input({ redrive: { deadLetterTargetArn: `${DLQ}-x`, maxReceiveCount: 5 } })).saw).toContain('not demo-events-dlq');
    expect(queueRedriveCheck(input({})).saw).toContain('no redrive policy');
    expect(queueRedriveCheck(input({}, null)).status).toBe('warn');
  });

  it('backlog: a warning from BACKLOG_WARN_AT waiting messages, in-flight ones are being worked on', () => {
    expect(queueBacklogCheck(input({ depth: BACKLOG_WARN_AT - 1, inFlight: 500 }))!.status).toBe('ok');
    const warn = queueBacklogCheck(input({ depth: BACKLOG_WARN_AT, inFlight: 0 }))!;
    expect(warn).toMatchObject({ status: 'warn', hop: 'monitoring' });
    expect(warn.fix).toContain('vidpipe listen --pull');
    expect(queueBacklogCheck(input(undefined))).toBeUndefined();
  });
});
