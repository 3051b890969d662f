/**
 * Stands in for the one hop moto does not perform: an API destination's delivery. moto 5.2 sends nothing to an API
 * destination (with MOTO_EVENTS_INVOKE_HTTP=true it sends a request without the event or the auth header), but it
 * does deliver a rule's events to an SQS target. So the relay adds an SQS target to the rule and POSTs every message's
 * body — the event, as EventBridge would send it — to the listener with an API destination's headers and key.
 * What the listener answered is kept for the test to read.
 */
import { CreateQueueCommand, DeleteMessageCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EventBridgeClient, PutTargetsCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { EVENTBRIDGE_HEADERS, LISTENER_PATH } from './listener.js';

export interface RelayAnswer {
  status: number;
  body: string;
  event: Record<string, unknown>;
}

export interface Relay {
  answers: RelayAnswer[];
  /** Resolves once `n` answers in all have arrived (rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const TARGET_ID = 'test-relay';

export interface RelayOptions {
  endpoint: string;
  region: string;
  rule: string;
  listenerUrl: string;
  headers: Record<string, string>;
  /**
   * Instead of delivering, give up on each event as EventBridge does after its retries: write it to this dead-letter
   * queue with the message attributes EventBridge sets (eb-rule-dlq.html). moto never dead-letters on its own.
   */
  deadLetter?: { queueUrl: string; errorCode: string; errorMessage: string };
}

export async function startRelay(options: RelayOptions): Promise<Relay> {
  const client = { endpoint: options.endpoint, region: options.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  const sqs = new SQSClient(client);
  const eb = new EventBridgeClient(client);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${options.rule}-relay-${Date.now()}` }));
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await eb.send(new PutTargetsCommand({ Rule: options.rule, Targets: [{ Id: TARGET_ID, Arn: attrs.Attributes!.QueueArn! }] }));
  const answers: RelayAnswer[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 })).catch(() => undefined);
      for (const m of out?.Messages ?? []) {
        if (options.deadLetter) {
          const attr = (v: string) => ({ DataType: 'String', StringValue: v });
          await sqs.send(
            new SendMessageCommand({
              QueueUrl: options.deadLetter.queueUrl,
              MessageBody: m.Body!,
              MessageAttributes: { ERROR_CODE: attr(options.deadLetter.errorCode), ERROR_MESSAGE: attr(options.deadLetter.errorMessage), RULE_ARN: attr(options.rule) },
            }),
          );
          answers.push({ status: 0, body: 'dead-lettered', event: JSON.parse(m.Body!) as Record<string, unknown> });
          await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle! }));
          continue;
        }
        const res = await fetch(`${options.listenerUrl}${LISTENER_PATH}`, { method: 'POST', headers: { ...EVENTBRIDGE_HEADERS, ...options.headers }, body: m.Body! });
        answers.push({ status: res.status, body: await res.text(), event: JSON.parse(m.Body!) as Record<string, unknown> });
        await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle! }));
      }
    }
  })();
  return {
    answers,
    async waitFor(n, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (answers.length < n) {
        if (Date.now() > deadline) throw new Error(`the relay got ${answers.length} of ${n} events within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      running = false;
      await loop;
      await eb.send(new RemoveTargetsCommand({ Rule: options.rule, Ids: [TARGET_ID] })).catch(() => undefined);
      await sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => undefined);
      sqs.destroy();
      eb.destroy();
    },
  };
}
