/**
 * The EventBridge archive on the default bus: a copy of every event the rule forwards (same event pattern), kept
 * `archiveRetentionDays` days (default 7; 0 = no archive), so `vidpipe replay` can send events lost while the
 * listener was down or misconfigured through the rule again. EventBridge never archives replayed events
 * (CreateArchive: "Replayed events are not sent to an archive"), so a replay does not grow the archive.
 */
import { archiveRetentionDays } from '../../config/config.js';
import { sameJson } from '../../util/canonical-json.js';
import { eventPattern } from '../documents.js';
import { archiveName, arns } from '../names.js';
import type { ResourceModule } from '../types.js';
import { call, deleteIfExists, readOrUndefined } from './common.js';

interface ArchiveDesired {
  name: string;
  sourceArn: string;
  pattern: Record<string, unknown>;
  retentionDays: number;
}

export interface ArchiveObserved {
  arn: string;
  sourceArn?: string;
  pattern: unknown;
  retentionDays?: number;
  state?: string;
  /** DescribeArchive's EventCount: AWS reconciles it within 24 h (eb-archive.html), so it lags. */
  eventCount?: number;
}

export const archive: ResourceModule<ArchiveDesired, ArchiveObserved> = {
  id: 'archive',
  kind: 'EventBridge archive',
  dependsOn: [],
  name: (env) => archiveName(env.config.app),
  desired: (env) => {
    const retentionDays = archiveRetentionDays(env.config);
    if (retentionDays === 0) return undefined;
    return { name: archiveName(env.config.app), sourceArn: arns.defaultBus(env), pattern: eventPattern(env.config), retentionDays };
  },

  async observe(aws, env) {
    const ArchiveName = archiveName(env.config.app);
    const eb = await aws.eventbridge();
    const m = await import('@aws-sdk/client-eventbridge');
    const out = await readOrUndefined('events:DescribeArchive', ArchiveName, () => eb.send(new m.DescribeArchiveCommand({ ArchiveName })));
    if (!out?.ArchiveArn) return undefined;
    return {
      arn: out.ArchiveArn,
      ...(out.EventSourceArn ? { sourceArn: out.EventSourceArn } : {}),
      pattern: out.EventPattern ? JSON.parse(out.EventPattern) : undefined,
      ...(out.RetentionDays !== undefined ? { retentionDays: Number(out.RetentionDays) } : {}),
      ...(out.State ? { state: out.State } : {}),
      ...(out.EventCount !== undefined ? { eventCount: Number(out.EventCount) } : {}),
    };
  },

  diff(d, o) {
    const reasons: string[] = [];
    if (o.sourceArn !== undefined && o.sourceArn !== d.sourceArn) reasons.push(`archives ${o.sourceArn}, not the default bus`);
    if (!sameJson(o.pattern, d.pattern)) reasons.push('event pattern differs');
    if (o.retentionDays !== d.retentionDays) reasons.push(`retention ${o.retentionDays ?? 'unset'} days → ${d.retentionDays}`);
    return reasons;
  },

  async apply(aws, d, o) {
    const eb = await aws.eventbridge();
    const m = await import('@aws-sdk/client-eventbridge');
    const EventPattern = JSON.stringify(d.pattern);
    if (o && (o.sourceArn === undefined || o.sourceArn === d.sourceArn)) {
      await call('events:UpdateArchive', d.name, () => eb.send(new m.UpdateArchiveCommand({ ArchiveName: d.name, EventPattern, RetentionDays: d.retentionDays })));
      return { ...o, pattern: d.pattern, retentionDays: d.retentionDays };
    }
    // An archive's source bus cannot change: one on another bus is replaced.
    if (o) await deleteIfExists('events:DeleteArchive', d.name, () => eb.send(new m.DeleteArchiveCommand({ ArchiveName: d.name })));
    const out = await call('events:CreateArchive', d.name, () =>
      eb.send(
        new m.CreateArchiveCommand({
          ArchiveName: d.name,
          EventSourceArn: d.sourceArn,
          EventPattern,
          RetentionDays: d.retentionDays,
          Description: 'vidpipe: the MediaConvert events the rule forwards, for `vidpipe replay`',
        }),
      ),
    );
    return { arn: out.ArchiveArn!, sourceArn: d.sourceArn, pattern: d.pattern, retentionDays: d.retentionDays, ...(out.State ? { state: out.State } : {}), eventCount: 0 };
  },

  async destroy(aws, _o, env) {
    const ArchiveName = archiveName(env.config.app);
    const eb = await aws.eventbridge();
    const m = await import('@aws-sdk/client-eventbridge');
    await deleteIfExists('events:DeleteArchive', ArchiveName, () => eb.send(new m.DeleteArchiveCommand({ ArchiveName })));
  },

  details: (o) => ({ state: o.state ?? 'unknown', retention: `${o.retentionDays ?? '?'} days`, events: o.eventCount ?? 0 }),
};
