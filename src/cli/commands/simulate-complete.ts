/**
 * `vidpipe simulate-complete`: faithful MediaConvert job events on demand, POSTed to the listener as an EventBridge
 * API destination would, or put on the default bus. Parses and checks flags, calls src/simulate, renders.
 */
import { Option, type Command } from '../commander.js';
import { RemoteRejectedError, UsageError } from '../../errors.js';
import { JOB_STATUSES, TERMINAL_STATUSES, type JobStatus } from '../../events/types.js';
import { hlsOutputsFor, thumbnailPathFor, type SimulatedOutputs } from '../../events/build.js';
import type { SentEvent, SimulateOptions, SimulateResult } from '../../simulate/simulate.js';
import { renderTable, type Output } from '../../output/output.js';
import { addAwsOptions, awsOptionsFrom, commandContext, parseInteger, parseUrl } from '../context.js';
import { summaryOf } from './index.js';

const MAX_COUNT = 100_000;
/** A sequence is up to 8 events a job (16 with --duplicate): keep a run's events in memory bounded. */
const MAX_SEQUENCE_COUNT = 10_000;
const MAX_CONCURRENCY = 256;
const S3_URI = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/\S+$/;
const JOB_ID = /^[A-Za-z0-9._:-]{1,256}$/;

export function registerSimulateComplete(program: Command): void {
  const cmd = program
    .command('simulate-complete')
    .description(summaryOf('simulate-complete'))
    .option('--to <url>', 'listener URL (default: the local listener, http://HOST:PORT/aws/listener/eventbridge/video, 127.0.0.1:3000 unless set)')
    .option('--public', "send to the config's public listener.url (the API destination's endpoint) instead of the local listener")
    .option('--job-id <id>', 'job id (default: a new MediaConvert-style id)')
    .option('--post <id>', 'post id, sent in userMetadata.postId')
    .option('--status <status>', `one of ${JOB_STATUSES.join(', ')}`, 'COMPLETE')
    .option('--error-code <n>', 'ERROR only: MediaConvert error code (default 1010)')
    .option('--error-message <text>', 'ERROR only: error message')
    .option('--sequence', "a job's life: PROGRESSING → STATUS_UPDATE ×n → COMPLETE/ERROR/CANCELED → a late INPUT_INFORMATION")
    .option('--duplicate', 'send every event twice (same event id), as at-least-once delivery may')
    .option('--shuffle', 'with --sequence: send the events out of order')
    .option('--count <n>', `number of distinct jobs (1–${MAX_COUNT})`, '1')
    .option('--concurrency <n>', `requests in flight with --count (1–${MAX_CONCURRENCY})`, '10')
    .addOption(
      new Option('--via <how>', 'POST to the listener, PutEvents on the default bus, or SendMessage into the event queue (`listen --pull` reads it)')
        .choices(['http', 'eventbridge', 'sqs'])
        .default('http'),
    )
    .option('--queue-url <url>', '--via sqs: the queue (default: the event queue `setup --delivery sqs` created, <app>-events)')
    .option('--source <name>', '--via eventbridge: event source (default: config simulatorSource, vidpipe.simulator)')
    .option('--output <s3-uri>', 'COMPLETE: an MP4 output path (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--hls <s3-uri>', 'COMPLETE: the HLS multivariant playlist (…/main.m3u8); renditions follow the templates')
    .option('--thumbnail <s3-uri>', 'COMPLETE: the thumbnail path (a .jpg, or a folder/stem for the last capture)')
    .option('--print', 'print the event(s) as JSON on stdout and send nothing');
  addAwsOptions(cmd).action(async (_opts: unknown, command: Command) => {
    const { globals, out } = commandContext(command);
    const options = parseSimulateOptions(command.opts(), globals.configPath);
    const { simulate } = await import('../../simulate/simulate.js');
    const streamAnswers = !globals.json && !options.print;
    const result = await simulate(options, {
      onAnswer: streamAnswers ? (a) => out.data(answerLine(a)) : undefined,
      onAwsCall: (service, name) => out.debug(`aws ${service} ${name.replace(/Command$/, '')}`),
    });
    render(result, out);
  });
}

/** Flags → typed, checked options; every mistake is named with what to do. */
export function parseSimulateOptions(o: Record<string, unknown>, configPath: string): SimulateOptions {
  const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const status = (str('status') ?? 'COMPLETE').toUpperCase() as JobStatus;
  if (!JOB_STATUSES.includes(status)) throw new UsageError('BAD_STATUS', `--status must be one of ${JOB_STATUSES.join(', ')}, got "${str('status')}".`);
  const sequence = o.sequence === true;
  const count = parseInteger(str('count') ?? '1', '--count', 1, sequence ? MAX_SEQUENCE_COUNT : MAX_COUNT);
  const via = (str('via') ?? 'http') as SimulateOptions['via'];

  if ((str('errorCode') !== undefined || str('errorMessage') !== undefined) && status !== 'ERROR')
    throw new UsageError('ERROR_FLAGS_WITHOUT_ERROR', '--error-code and --error-message go with --status ERROR.');
  if (sequence && !TERMINAL_STATUSES.has(status))
    throw new UsageError('BAD_SEQUENCE_STATUS', `--sequence ends the job in COMPLETE, ERROR or CANCELED; --status ${status} cannot end it.`);
  if (o.shuffle === true && !sequence) throw new UsageError('SHUFFLE_WITHOUT_SEQUENCE', '--shuffle reorders a --sequence; add --sequence.');
  const jobId = str('jobId');
  if (jobId !== undefined && !JOB_ID.test(jobId))
    throw new UsageError('BAD_JOB_ID', `--job-id must be 1–256 letters, digits, dots, colons, dashes or underscores, got "${jobId}".`);
  if (jobId !== undefined && count > 1) throw new UsageError('JOB_ID_WITH_COUNT', '--job-id names one job; --count makes distinct jobs. Use one or the other.');
  const postId = str('post');
  if (postId !== undefined && (postId === '' || postId.length > 256)) throw new UsageError('BAD_POST_ID', '--post must be 1–256 characters.');
  if (str('to') !== undefined && via !== 'http')
    throw new UsageError('TO_WITHOUT_HTTP', `--to is for --via http; --via ${via} sends to ${via === 'sqs' ? 'the event queue (--queue-url)' : 'the default bus'}.`);
  if (str('queueUrl') !== undefined && via !== 'sqs') throw new UsageError('QUEUE_URL_WITHOUT_SQS', '--queue-url is for --via sqs.');
  if (o.public === true && (via !== 'http' || str('to') !== undefined))
    throw new UsageError('PUBLIC_WITH_TO', `--public picks the config's listener.url for --via http; drop it with --to or --via ${via === 'http' ? 'eventbridge|sqs' : via}.`);
  const source = str('source');
  if (source !== undefined && via !== 'eventbridge') throw new UsageError('SOURCE_WITHOUT_EVENTBRIDGE', '--source is for --via eventbridge.');

  return {
    status,
    ...(jobId !== undefined ? { jobId } : {}),
    ...(postId !== undefined ? { postId } : {}),
    ...(str('errorCode') !== undefined ? { errorCode: parseInteger(str('errorCode')!, '--error-code', 1, 999_999) } : {}),
    ...(str('errorMessage') !== undefined ? { errorMessage: str('errorMessage') } : {}),
    sequence,
    duplicate: o.duplicate === true,
    shuffle: o.shuffle === true,
    count,
    concurrency: parseInteger(str('concurrency') ?? '10', '--concurrency', 1, MAX_CONCURRENCY),
    via,
    ...(str('to') !== undefined ? { to: parseUrl(str('to')!, '--to') } : {}),
    ...(str('queueUrl') !== undefined ? { queueUrl: parseUrl(str('queueUrl')!, '--queue-url') } : {}),
    ...(o.public === true ? { publicListener: true } : {}),
    ...(source !== undefined ? { source } : {}),
    outputs: parseOutputs(o, status),
    print: o.print === true,
    aws: awsOptionsFrom(o),
    configPath,
  };
}

function parseOutputs(o: Record<string, unknown>, status: JobStatus): SimulatedOutputs | undefined {
  const mp4 = (o.output as string[] | undefined) ?? [];
  const hls = typeof o.hls === 'string' ? o.hls : undefined;
  const thumbnail = typeof o.thumbnail === 'string' ? o.thumbnail : undefined;
  if (!mp4.length && hls === undefined && thumbnail === undefined) return undefined;
  if (status !== 'COMPLETE') throw new UsageError('OUTPUTS_WITHOUT_COMPLETE', '--output, --hls and --thumbnail describe a COMPLETE job; drop them or use --status COMPLETE.');
  for (const [flag, uri] of [...mp4.map((u) => ['--output', u] as const), ['--hls', hls] as const, ['--thumbnail', thumbnail] as const]) {
    if (uri !== undefined && !S3_URI.test(uri)) throw new UsageError('BAD_S3_URI', `${flag} must be an s3://bucket/key URI with a valid bucket name (3-63 lower-case letters, digits, dots or hyphens), got "${uri}".`);
  }
  if (hls !== undefined && !hls.endsWith('.m3u8')) throw new UsageError('BAD_HLS_URI', `--hls names the multivariant playlist and ends in .m3u8 (e.g. s3://bucket/hls/main.m3u8), got "${hls}".`);
  return { mp4, hls: hls === undefined ? undefined : hlsOutputsFor(hls), thumbnail: thumbnail === undefined ? undefined : thumbnailPathFor(thumbnail) };
}

function answerDocument({ body, ...rest }: SentEvent): Omit<SentEvent, 'body'> & { answer: unknown } {
  let answer: unknown = body;
  try {
    answer = JSON.parse(body);
  } catch {
    // not JSON (a proxy's HTML page): kept as text
  }
  return { ...rest, answer };
}

function answerLine(a: SentEvent): string {
  return `${a.status.padEnd(17)} ${a.jobId}  → ${a.httpStatus} ${a.body.replace(/\s+/g, ' ').trim()}`;
}

function render(result: SimulateResult, out: Output): void {
  switch (result.mode) {
    case 'print':
      out.data(JSON.stringify(result.document, null, 2));
      return;
    case 'http': {
      const jobId = result.jobIds[0]!;
      // In text mode the answers were printed as they came.
      // The listener's answer is JSON: in --json it is a value, not JSON encoded again as a string.
      out.result({ via: 'http', url: result.url, jobId, answers: result.answers.map(answerDocument) }, () => '');
      out.success(`${result.answers.length} event(s) for job ${jobId} accepted by ${result.url}`);
      out.info(`See the job: GET ${new URL(`/api/videos/${encodeURIComponent(jobId)}`, result.url).href} (with the same ${result.authHeader} header)`);
      return;
    }
    case 'load': {
      const s = result.summary;
      const counts = (m: Record<string, number>) => Object.entries(m).map(([k, v]) => `${k}: ${v}`).join(', ') || '-';
      const doc = { via: 'http', url: result.url, ...s };
      const text = () =>
        renderTable(
          ['', ''],
          [
            ['jobs / events', `${s.jobs} / ${s.events} (concurrency ${s.concurrency})`],
            ['HTTP status', counts(s.byHttpStatus)],
            ['listener said', counts(s.byOutcome)],
            ['latency ms', `p50 ${s.latencyMs.p50}  p95 ${s.latencyMs.p95}  p99 ${s.latencyMs.p99}  max ${s.latencyMs.max}`],
            ['throughput', `${s.eventsPerSecond} events/s over ${s.seconds} s`],
          ],
        ).split('\n').slice(2).join('\n');
      if (result.rejected === 0) return out.result(doc, text);
      // One JSON document: with --json the error carries the summary; in text the summary comes first.
      if (!out.json) out.result(doc, text);
      throw new RemoteRejectedError('LISTENER_REJECTED', `${result.rejected} of ${s.events} events were not accepted by ${result.url}.`, { details: { summary: doc } });
    }
    case 'eventbridge': {
      for (const w of result.warnings) out.warn(w);
      out.result(
        { via: 'eventbridge', source: result.source, region: result.region, jobIds: result.jobIds, entries: result.entries, putEventsCalls: result.calls },
        () => result.entries.map((e) => `${e.status.padEnd(17)} ${e.jobId}  → event ${e.eventId}`).join('\n'),
      );
      out.success(`${result.entries.length} event(s) put on the default bus in ${result.region ?? 'the default region'} with source ${result.source} (${result.calls} PutEvents call(s))`);
      return;
    }
    case 'sqs': {
      out.result(
        { via: 'sqs', queueUrl: result.queueUrl, jobIds: result.jobIds, entries: result.entries, sendMessageBatchCalls: result.calls },
        () => result.entries.map((e) => `${e.status.padEnd(17)} ${e.jobId}  → message ${e.messageId}`).join('\n'),
      );
      out.success(`${result.entries.length} event(s) sent to ${result.queueUrl} (${result.calls} SendMessageBatch call(s)); \`vidpipe listen --pull\` receives them`);
    }
  }
}
