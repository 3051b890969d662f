/**
 * `listen --pull`: the built CLI long-polls a real SQS queue in moto (over HTTP) and stores each event through the
 * same ingest use-case as the HTTP route. Faults: bodies that are not events, SIGKILL mid-stream, two pullers on one
 * queue, a queue that does not exist.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtCliAvailable, spawnCli, spawnListen } from '../helpers/cli.js';
import { waitFor } from '../helpers/fake-slack.js';
import { makeEvent, tempDir, type Body } from '../helpers/listener.js';
import { motoAvailable, startMoto, type Moto } from '../helpers/moto.js';

const KEY = 'pull-test-key';
const tmp = tempDir('vidpipe-pull-');
let moto: Moto;
let sqs: SQSClient;

describe.runIf(motoAvailable() && builtCliAvailable())('listen --pull (built CLI, moto SQS)', () => {
  beforeAll(async () => {
    moto = await startMoto();
    sqs = new SQSClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  });
  afterAll(async () => {
    sqs?.destroy();
    await moto?.stop();
    tmp.cleanup();
  });

  async function queue(name: string, o: { visibility?: number; maxReceive?: number } = {}) {
    const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl as string;
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn as string;
    const url = (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: { VisibilityTimeout: String(o.visibility ?? 30), RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: o.maxReceive ?? 5 }) },
        }),
      )
    ).QueueUrl as string;
    return { url, dlq };
  }

  async function depth(url: string): Promise<{ visible: number; inFlight: number }> {
    const a = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))).Attributes ?? {};
    return { visible: Number(a.ApproximateNumberOfMessages), inFlight: Number(a.ApproximateNumberOfMessagesNotVisible) };
  }

  async function sendAll(url: string, bodies: string[]) {
    for (let i = 0; i < bodies.length; i += 10)
      await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: bodies.slice(i, i + 10).map((b, j) => ({ Id: String(j), MessageBody: b })) }));
  }

  const env = () => ({ ...moto.env, VIDPIPE_API_KEY: KEY });
  const stored = (dbPath: string) => {
    const db = new Database(dbPath, { readonly: true });
    try {
      return db.prepare('SELECT event_id, COUNT(*) AS n FROM inbox GROUP BY event_id').all() as { event_id: string; n: number }[];
    } finally {
      db.close();
    }
  };

  it('stores each queued event through the ingest use-case and deletes its message; --pull alone serves reads, not POST', async () => {
    const q = await queue('pull-basic');
    const dbPath = path.join(tmp.dir, 'basic.db');
    const l = await spawnListen(['--pull', '--queue-url', q.url, '--db', dbPath], { cwd: tmp.dir, env: env() });
    expect(l.stderr()).toContain(`pulling: ${q.url}`);
    const events = [makeEvent('progressing', { jobId: 'pull-1', postId: '7' }), makeEvent('complete-file-group', { jobId: 'pull-1', postId: '7' })];
    await sendAll(q.url, events.map((e) => JSON.stringify(e)));
    await waitFor(async () => {
      const r = await fetch(`${l.url}/api/videos/pull-1`, { headers: { 'x-api-key': KEY } });
      return r.status === 200 && ((await r.json()) as { video: { status: string } }).video.status === 'COMPLETE';
    }, 30_000, 'the job COMPLETE');
    await waitFor(async () => {
      const d = await depth(q.url);
      return d.visible === 0 && d.inFlight === 0;
    }, 10_000, 'the queue drained');
    const post = await fetch(`${l.url}/aws/listener/eventbridge/video`, { method: 'POST', headers: { 'x-api-key': KEY, 'content-type': 'application/json' }, body: '{}' });
    expect(post.status).toBe(404);
    l.child.kill('SIGTERM');
    expect((await l.exited).code).toBe(0);
    expect(stored(dbPath).map((r) => r.n)).toEqual([1, 1]);
  });

  it('a body that is not an event, or an event of another type, is not stored, is logged once, and goes to the DLQ by the redrive policy', async () => {
    const q = await queue('pull-bad', { visibility: 1, maxReceive: 2 });
    const dbPath = path.join(tmp.dir, 'bad.db');
    const l = await spawnListen(['--pull', '--queue-url', q.url, '--db', dbPath], { cwd: tmp.dir, env: env() });
    const notJson = await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: 'this is not json' }));
    const other = makeEvent('progressing', { source: 'someone.else' });
    const otherMsg = await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: JSON.stringify(other) }));
    await waitFor(async () => (await depth(q.dlq)).visible === 2, 30_000, 'both in the DLQ');
    l.child.kill('SIGTERM');
    await l.exited;
    const log = l.stdout() + l.stderr();
    for (const id of [notJson.MessageId, otherMsg.MessageId]) expect(log.split(`message ${id} left for the redrive policy`).length - 1).toBe(1);
    expect(log).toContain('not an EventBridge event');
    expect(log).toContain('not a MediaConvert job event (source someone.else');
    expect(stored(dbPath)).toEqual([]);
  });

  it('SIGKILL mid-stream: the messages come back after their visibility timeout and each event is stored once; two pullers share one queue', async () => {
    const q = await queue('pull-kill', { visibility: 2 });
    const dbPath = path.join(tmp.dir, 'kill.db');
    const events: Body[] = Array.from({ length: 120 }, (_, i) => makeEvent('status-update', { jobId: `pull-k-${i % 12}`, timestamp: 1_700_000_000_000 + i }));
    await sendAll(q.url, events.map((e) => JSON.stringify(e)));
    const first = await spawnListen(['--pull', '--queue-url', q.url, '--db', dbPath], { cwd: tmp.dir, env: env() });
    await waitFor(() => stored(dbPath).length >= 20, 30_000, 'some stored');
    first.child.kill('SIGKILL');
    await first.exited;
    const a = await spawnListen(['--pull', '--queue-url', q.url, '--db', dbPath], { cwd: tmp.dir, env: env() });
    const b = await spawnListen(['--pull', '--queue-url', q.url, '--db', dbPath], { cwd: tmp.dir, env: env() });
    await waitFor(() => stored(dbPath).length === events.length, 60_000, 'every event stored');
    await waitFor(async () => {
      const d = await depth(q.url);
      return d.visible === 0 && d.inFlight === 0;
    }, 20_000, 'the queue drained');
    for (const l of [a, b]) l.child.kill('SIGTERM');
    expect((await a.exited).code).toBe(0);
    expect((await b.exited).code).toBe(0);
    const rows = stored(dbPath);
    expect(rows).toHaveLength(events.length);
    expect(rows.every((r) => r.n === 1)).toBe(true);
  }, 120_000);

  it('a queue that does not exist: a clear error naming it and the fix, retried with backoff, never a spin', async () => {
    const missing = `${moto.endpoint}/123456789012/no-such-queue`;
    const l = spawnCli(['listen', '--port', '0', '--pull', '--queue-url', missing, '--db', path.join(tmp.dir, 'missing.db')], { cwd: tmp.dir, env: env() });
    await new Promise((r) => setTimeout(r, 4000));
    l.child.kill('SIGTERM');
    expect((await l.exited).code).toBe(0);
    const lines = (l.stdout() + l.stderr()).split('\n').filter((x) => x.includes('does not exist'));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(4); // 1 s, 2 s, 4 s… apart
    expect(lines[0]).toContain('no-such-queue does not exist: run `vidpipe setup --delivery sqs` or pass --queue-url');
  });

  it('refuses --queue-url or --http without --pull', async () => {
    const r = spawnCli(['listen', '--port', '0', '--http'], { cwd: tmp.dir, env: env() });
    expect((await r.exited).code).toBe(2);
    expect(r.stderr()).toContain('--http goes with --pull.');
  });
});
