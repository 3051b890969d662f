/**
 * `vidpipe replay`: StartReplay from the app's archive back onto the default bus, to the vidpipe rule only
 * (Destination.FilterArns = [rule ARN]), then DescribeReplay until it is COMPLETED, FAILED or CANCELLED.
 * EventBridge replays in one-minute slices of event time and reports EventLastReplayedTime, which gives the progress
 * (StartReplay in the EventBridge API reference). Replayed events carry a `replay-name` field; the listener's
 * idempotency (event ids, and a job state that an older or repeated event cannot move back) makes a replay safe.
 */
import { randomBytes } from 'node:crypto';
import type { AwsContext } from '../aws/context.js';
import { awsCall, awsErrorName } from '../aws/errors.js';
import { archiveRetentionDays, type VidpipeConfig } from '../config/config.js';
import { ExitCode, UsageError, VidpipeError } from '../errors.js';
import { archiveName, arns, resourceNames } from '../provision/names.js';

export const TERMINAL_REPLAY_STATES = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

export interface ReplayInfo {
  name: string;
  state: string;
  stateReason?: string;
  eventStartTime?: string;
  eventEndTime?: string;
  eventLastReplayedTime?: string;
  replayStartTime?: string;
  replayEndTime?: string;
  /** 0–100, from EventLastReplayedTime within the window (100 once COMPLETED). */
  percent?: number;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `2h`, `30m`, `1d`, `90s`, `1w` before `now`, or an ISO 8601 time (`2026-12-03T07:00:00Z`). */
export function parseWhen(text: string, flag: string, now: number): Date {
  const rel = /^(\d+)\s*([smhdw])$/i.exec(text.trim());
  if (rel) return new Date(now - Number(rel[1]) * UNITS[rel[2]!.toLowerCase()]!);
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const t = Date.parse(text);
    if (!Number.isNaN(t)) return new Date(t);
  }
  throw new UsageError('BAD_TIME', `${flag} must be a duration before now (30m, 2h, 1d, 1w) or an ISO time (2026-12-03T07:00:00Z), got "${text}".`);
}

export function replayName(app: string, now: Date): string {
  // ReplayName: ≤ 64 of [.-_A-Za-z0-9] (API reference); app ≤ 32 + 1 + 15 + 1 + 4.
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '');
  return `${app}-${stamp}-${randomBytes(2).toString('hex')}`;
}

function info(r: {
  ReplayName?: string;
  State?: string;
  StateReason?: string;
  EventStartTime?: Date;
  EventEndTime?: Date;
  EventLastReplayedTime?: Date;
  ReplayStartTime?: Date;
  ReplayEndTime?: Date;
}): ReplayInfo {
  const iso = (d?: Date) => (d ? new Date(d).toISOString() : undefined);
  const start = r.EventStartTime ? new Date(r.EventStartTime).getTime() : undefined;
  const end = r.EventEndTime ? new Date(r.EventEndTime).getTime() : undefined;
  const last = r.EventLastReplayedTime ? new Date(r.EventLastReplayedTime).getTime() : undefined;
  const percent =
    r.State === 'COMPLETED' ? 100 : start !== undefined && end !== undefined && last !== undefined && end > start ? Math.max(0, Math.min(100, Math.round(((last - start) / (end - start)) * 100))) : undefined;
  const out: ReplayInfo = { name: r.ReplayName ?? '?', state: r.State ?? 'UNKNOWN' };
  const set = <K extends keyof ReplayInfo>(k: K, v: ReplayInfo[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set('stateReason', r.StateReason);
  set('eventStartTime', iso(r.EventStartTime));
  set('eventEndTime', iso(r.EventEndTime));
  set('eventLastReplayedTime', iso(r.EventLastReplayedTime));
  set('replayStartTime', iso(r.ReplayStartTime));
  set('replayEndTime', iso(r.ReplayEndTime));
  set('percent', percent);
  return out;
}

export interface StartReplayOptions {
  config: VidpipeConfig;
  aws: AwsContext;
  since: Date;
  until: Date;
  now?: Date;
}

export interface StartedReplay {
  name: string;
  archive: string;
  rule: string;
  since: string;
  until: string;
  /** Notes for the user (e.g. the window starts before the archive existed). */
  warnings: string[];
}

export async function startReplay(options: StartReplayOptions): Promise<StartedReplay> {
  const { config, aws, since, until } = options;
  const now = options.now ?? new Date();
  if (since.getTime() >= until.getTime()) throw new UsageError('BAD_WINDOW', `--since (${since.toISOString()}) must be before --until (${until.toISOString()}).`);
  if (until.getTime() > now.getTime() + 60_000) throw new UsageError('BAD_WINDOW', `--until (${until.toISOString()}) is in the future: events that have not happened cannot be replayed.`);
  if (archiveRetentionDays(config) === 0)
    throw new UsageError('ARCHIVE_OFF', 'The archive is turned off ("archiveRetentionDays": 0), so there is nothing to replay.', {
      hint: 'Set "archiveRetentionDays" (e.g. 7) in vidpipe.config.json and run `vidpipe setup`; events from then on can be replayed.',
    });
  const region = aws.region;
  if (!region) throw new UsageError('AWS_REGION_MISSING', 'No AWS region is set.', { hint: 'Pass --region, set "region" in vidpipe.config.json, or set AWS_REGION.' });
  const c = { region, accountId: await aws.accountId() };
  const eb = await aws.eventbridge();
  const m = await import('@aws-sdk/client-eventbridge');
  const ArchiveName = archiveName(config.app);
  const archive = await eb.send(new m.DescribeArchiveCommand({ ArchiveName })).catch((err: unknown) => {
    if (/ResourceNotFound/.test(awsErrorName(err)))
      throw new VidpipeError('ARCHIVE_MISSING', `The archive ${ArchiveName} does not exist, so there is nothing to replay.`, {
        hint: 'Run `vidpipe setup` to create it; events archived from then on can be replayed.',
        exitCode: ExitCode.drift,
      });
    return awsCall({ action: 'events:DescribeArchive', resource: ArchiveName }, () => Promise.reject(err));
  });
  const warnings: string[] = [];
  if (archive.CreationTime && new Date(archive.CreationTime).getTime() > since.getTime())
    warnings.push(`the archive was created at ${new Date(archive.CreationTime).toISOString()}: nothing before that can be replayed.`);
  // AWS may take a few minutes to archive an event (eb-archive.html recommends waiting 10 minutes before replaying).
  if (now.getTime() - until.getTime() < 10 * 60_000) warnings.push('events from the last ~10 minutes may not be in the archive yet (EventBridge archives with a delay).');
  const names = resourceNames(config);
  const ruleArn = arns.rule(c, names.rule);
  const name = replayName(config.app, now);
  await awsCall({ action: 'events:StartReplay', resource: ArchiveName }, () =>
    eb.send(
      new m.StartReplayCommand({
        ReplayName: name,
        Description: `vidpipe replay ${since.toISOString()} → ${until.toISOString()} to ${names.rule}`,
        EventSourceArn: archive.ArchiveArn ?? arns.archive(c, ArchiveName),
        EventStartTime: since,
        EventEndTime: until,
        // Only to vidpipe's rule: other rules on the default bus do not see the replay.
        Destination: { Arn: arns.defaultBus(c), FilterArns: [ruleArn] },
      }),
    ),
  );
  return { name, archive: ArchiveName, rule: ruleArn, since: since.toISOString(), until: until.toISOString(), warnings };
}

export async function describeReplay(aws: AwsContext, name: string): Promise<ReplayInfo> {
  const eb = await aws.eventbridge();
  const m = await import('@aws-sdk/client-eventbridge');
  return info(await awsCall({ action: 'events:DescribeReplay', resource: name }, () => eb.send(new m.DescribeReplayCommand({ ReplayName: name }))));
}

/** Polls DescribeReplay until the replay ends; `onProgress` on every change. */
export async function followReplay(aws: AwsContext, name: string, options: { pollMs?: number; timeoutMs?: number; onProgress?: (r: ReplayInfo) => void; signal?: AbortSignal } = {}): Promise<ReplayInfo> {
  const started = Date.now();
  let last = '';
  for (;;) {
    const r = await describeReplay(aws, name);
    const key = `${r.state}:${r.percent ?? ''}:${r.eventLastReplayedTime ?? ''}`;
    if (key !== last) options.onProgress?.(r);
    last = key;
    if (TERMINAL_REPLAY_STATES.has(r.state)) return r;
    if (options.signal?.aborted) return r;
    if (options.timeoutMs !== undefined && Date.now() - started > options.timeoutMs) return r;
    await new Promise((res) => setTimeout(res, options.pollMs ?? 2_000));
  }
}

export async function cancelReplay(aws: AwsContext, name: string): Promise<void> {
  const eb = await aws.eventbridge();
  const m = await import('@aws-sdk/client-eventbridge');
  await awsCall({ action: 'events:CancelReplay', resource: name }, () => eb.send(new m.CancelReplayCommand({ ReplayName: name })));
}

/** The app's replays, newest first. */
export async function listReplays(aws: AwsContext, config: VidpipeConfig, limit = 10): Promise<ReplayInfo[]> {
  const eb = await aws.eventbridge();
  const m = await import('@aws-sdk/client-eventbridge');
  const all: ReplayInfo[] = [];
  let NextToken: string | undefined;
  do {
    const out = await awsCall({ action: 'events:ListReplays', resource: `${config.app}-*` }, () =>
      eb.send(new m.ListReplaysCommand({ NamePrefix: `${config.app}-`, ...(NextToken ? { NextToken } : {}) })),
    );
    all.push(...(out.Replays ?? []).map(info));
    NextToken = out.NextToken;
  } while (NextToken && all.length < 500);
  return all.sort((a, b) => (b.replayStartTime ?? '').localeCompare(a.replayStartTime ?? '')).slice(0, limit);
}
