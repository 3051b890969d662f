/**
 * `vidpipe dlq list | show ID | redrive [--via http|eventbridge] [--to URL] [--max N] [--dry-run]`: the dead-letter
 * queue as an inbox. Nothing is deleted unless its event was accepted again.
 */
import { Option, type Command } from '../commander.js';
import { RemoteRejectedError, UsageError } from '../../errors.js';
import { renderTable, type Output } from '../../output/output.js';
import { addAwsOptions, awsOptionsFrom, awsTargetFrom, commandContext, parseInteger, parseUrl } from '../context.js';
import { summaryOf } from './index.js';

async function openQueue(command: Command, opts: Record<string, unknown>) {
  const { globals, out } = commandContext(command);
  const { requireConfig } = await import('../../config/config.js');
  const { resourceNames } = await import('../../provision/names.js');
  const { openAwsSession } = await import('../aws-session.js');
  const dlq = await import('../../dlq/dlq.js');
  const config = await requireConfig(globals.configPath);
  const queueName = resourceNames(config).deadLetterQueue;
  const session = openAwsSession(awsTargetFrom(awsOptionsFrom(opts), config.region), out);
  try {
    const queueUrl = await dlq.deadLetterQueueUrl(session.aws, queueName);
    return { globals, out, config, queueName, queueUrl, session, sqs: await session.aws.sqs(), dlq };
  } catch (err) {
    session.close();
    throw err;
  }
}

export function registerDlq(program: Command): void {
  const dlqCmd = program
    .command('dlq')
    .description(summaryOf('dlq'))
    .action(() => {
      throw new UsageError('DLQ_WHAT', 'Say what to do with the dead-letter queue: `vidpipe dlq list`, `vidpipe dlq show ID` or `vidpipe dlq redrive`.');
    });

  const list = dlqCmd.command('list').description('dead letters grouped by the error EventBridge recorded, with counts, oldest and newest');
  addAwsOptions(list).action(async (_o: unknown, command: Command) => {
    const opts = command.optsWithGlobals() as Record<string, unknown>;
    const q = await openQueue(command, opts);
    try {
      const letters = await q.dlq.readAll(q.sqs, q.queueUrl);
      const groups = q.dlq.groupLetters(letters);
      q.out.result({ queue: q.queueName, messages: letters.length, groups, letters: letters.map(q.dlq.letterSummary) }, (c) => {
        if (!letters.length) return `${q.queueName} is empty: every event was delivered (or none failed yet).`;
        const rows = groups.map((g) => [String(g.count), g.errorCode, g.errorMessage.slice(0, 80), g.oldest ?? '?', g.newest ?? '?', g.targetArn.split(':').slice(-1)[0] ?? '']);
        const ids = letters.map((l) => {
          const s = q.dlq.letterSummary(l);
          return `  ${s.messageId}  ${s.sentAt ?? ''}  ${s.errorCode ?? ''}  ${s.status ?? ''} ${s.jobId ?? ''}`;
        });
        return `${c.bold(`${letters.length} message(s) in ${q.queueName}`)}\n\n${renderTable(['count', 'ERROR_CODE', 'ERROR_MESSAGE', 'oldest', 'newest', 'target'], rows)}\n\nmessages:\n${ids.join('\n')}\n\n\`vidpipe dlq show ID\` prints one with its event; \`vidpipe dlq redrive\` sends them again.`;
      });
    } finally {
      q.session.close();
    }
  });

  const show = dlqCmd.command('show').description('one dead letter: its attributes and its event').argument('<id>', 'the SQS message id (from `vidpipe dlq list`)');
  addAwsOptions(show).action(async (id: string, _o: unknown, command: Command) => {
    const opts = command.optsWithGlobals() as Record<string, unknown>;
    const q = await openQueue(command, opts);
    try {
      const letters = await q.dlq.readAll(q.sqs, q.queueUrl);
      const letter = letters.find((l) => l.messageId === id);
      if (!letter)
        throw new UsageError('DLQ_MESSAGE_NOT_FOUND', `No message ${id} in ${q.queueName} (${letters.length} message(s) there).`, {
          hint: 'Run `vidpipe dlq list` for the ids; a message another reader holds reappears after its visibility timeout.',
        });
      const { receiptHandle: _secret, body, event, ...attributes } = letter;
      q.out.result({ ...attributes, event: event ?? body }, (c) =>
        [
          ...Object.entries(attributes).map(([k, v]) => `${c.bold(k.padEnd(24))} ${String(v)}`),
          '',
          c.bold('event:'),
          event ? JSON.stringify(event, null, 2) : body,
        ].join('\n'),
      );
    } finally {
      q.session.close();
    }
  });

  const redrive = dlqCmd
    .command('redrive')
    .description('send each dead letter again and delete it only once accepted; rejected ones stay, with the reason')
    .addOption(new Option('--via <how>', 'POST to the listener as the API destination does, or PutEvents on the default bus').choices(['http', 'eventbridge']).default('http'))
    .option('--to <url>', '--via http: the listener URL (default: listener.url, else the local `vidpipe listen`)')
    .option('--max <n>', 'at most this many messages (1-100000)', '100000')
    .option('--dry-run', 'show what would be sent; send and delete nothing');
  // Subcommands made after the program set exitOverride: commander errors must reach main, not process.exit.
  for (const sub of [list, show, redrive]) sub.exitOverride();
  addAwsOptions(redrive).action(async (_o: unknown, command: Command) => {
    const opts = command.optsWithGlobals() as Record<string, unknown>;
    const via = (opts.via ?? 'http') as 'http' | 'eventbridge';
    const max = parseInteger(String(opts.max ?? '100000'), '--max', 1, 100_000);
    const to = typeof opts.to === 'string' ? parseUrl(opts.to, '--to') : undefined;
    if (to && via !== 'http') throw new UsageError('TO_WITHOUT_HTTP', '--to is for --via http; --via eventbridge sends to the default bus.');
    const q = await openQueue(command, opts);
    try {
      const { redrive: run, httpSender, eventBridgeSender } = await import('../../dlq/redrive.js');
      let send;
      let target: string;
      if (via === 'http') {
        const { resolveListenerUrl } = await import('../../simulate/simulate.js');
        const { clientAuthHeaders, clientCredentials, secretsPathFor } = await import('../../config/secrets.js');
        // Where EventBridge would have delivered these events: the public listener.url when there is one.
        const url = resolveListenerUrl(to, q.config, process.env, Boolean(q.config.listener.url));
        const credentials = clientCredentials({ env: process.env, secretsFile: secretsPathFor(q.globals.configPath) });
        if (!opts.dryRun && !credentials.apiKey && !credentials.basicAuth)
          throw new UsageError('NO_API_KEY', 'No key to authenticate to the listener: VIDPIPE_API_KEY is not set and .vidpipe/secrets.json has none.', {
            hint: 'Run `vidpipe setup` (it writes the connection\'s key there) or set VIDPIPE_API_KEY.',
          });
        send = httpSender({ url, auth: clientAuthHeaders(credentials, q.config.listener.authHeader) });
        target = url.href;
      } else {
        if (!q.config.allowSimulatorSource)
          throw new UsageError('SIMULATOR_SOURCE_OFF', `--via eventbridge puts the events back with the source "${q.config.simulatorSource}" (PutEvents refuses aws.* sources), which the rule matches only with "allowSimulatorSource": true.`, {
            hint: 'Set "allowSimulatorSource": true in vidpipe.config.json and run `vidpipe setup`, or redrive with --via http.',
          });
        send = eventBridgeSender(await q.session.aws.eventbridge(), q.config.simulatorSource);
        target = `the default bus (source ${q.config.simulatorSource})`;
      }
      const total = await q.dlq.queueDepth(q.sqs, q.queueUrl);
      const progress = q.out.interactive && !opts.dryRun;
      const summary = await run({
        sqs: q.sqs,
        queueUrl: q.queueUrl,
        via,
        to: target,
        send,
        dryRun: Boolean(opts.dryRun),
        max,
        ...(progress ? { onProgress: (done, ok, bad) => q.out.stderr.write(`\r  ${done}/${Math.max(total, done)} sent · ${ok} accepted · ${bad} rejected `) } : {}),
      });
      if (progress) q.out.stderr.write('\n');
      renderSummary(summary, q.out, q.queueName);
      if (summary.rejected.length || summary.stopped)
        throw new RemoteRejectedError(
          'REDRIVE_INCOMPLETE',
          summary.stopped ? `redrive stopped: ${summary.stopped}` : `${summary.rejected.length} message(s) were rejected and stay in ${q.queueName}.`,
          { hint: 'Fix what the reasons name (`vidpipe dlq show ID` for one message), then run `vidpipe dlq redrive` again.', resultPrinted: true },
        );
    } finally {
      q.session.close();
    }
  });
}

function renderSummary(s: import('../../dlq/redrive.js').RedriveSummary, out: Output, queue: string): void {
  out.result(s, (c) => {
    if (s.dryRun) {
      const rows = (s.wouldSend ?? []).map((l) => [l.messageId, l.errorCode ?? '', l.status ?? '', l.jobId ?? '', l.eventId ?? '']);
      return rows.length
        ? `${c.bold(`dry run: would send ${rows.length} message(s) to ${s.to}`)} (nothing sent, nothing deleted)\n\n${renderTable(['message', 'ERROR_CODE', 'status', 'job', 'event id'], rows)}`
        : `dry run: ${queue} is empty, nothing to send.`;
    }
    const outcomes = Object.entries(s.byOutcome).map(([k, v]) => `${k} ${v}`).join(', ');
    const lines = [`${c.bold('accepted')}  ${s.accepted}${outcomes ? ` (${outcomes})` : ''} — deleted from ${queue}`, `${c.bold('rejected')}  ${s.rejected.length} — kept in the queue`];
    for (const r of s.rejected) lines.push(`  ${r.messageId}${r.jobId ? ` job ${r.jobId}` : ''}: ${r.reason}`);
    lines.push(`${c.bold('left')}      ${s.left} in ${queue}`);
    if (s.stopped) lines.push(`${c.red('stopped')}: ${s.stopped}`);
    return lines.join('\n');
  });
}
