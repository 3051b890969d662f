import { beforeAll, describe, expect, it } from 'vitest';
import {
  JOB_ID_PATTERN,
  PROGRESS_STEPS,
  buildEvent,
  buildSequence,
  defaultOutputs,
  duplicateEvents,
  hlsOutputsFor,
  isoSeconds,
  makeJobId,
  shuffleEvents,
  thumbnailPathFor,
  type JobIdentity,
} from '../../src/events/build.js';
import { compileListenerBodyValidator } from '../../src/events/schema.js';
import { JOB_STATUSES, type JobStateChangeEvent } from '../../src/events/types.js';
import { planSimulation, type SimulationSpec } from '../../src/simulate/plan.js';
import { seededBuildEnv } from '../helpers/build-env.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

let validate: Awaited<ReturnType<typeof compileListenerBodyValidator>>;
beforeAll(async () => {
  validate = await compileListenerBodyValidator();
});

function expectValid(event: unknown) {
  const ok = validate(event);
  expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([]);
  expect(ok).toBe(true);
}

function job(overrides: Partial<JobIdentity> = {}): JobIdentity {
  return {
    jobId: '1705319910000-abc123',
    account: '123456789012',
    region: 'eu-west-1',
    userMetadata: { app: 'demo', inputKey: 'sample.mp4', postId: '42' },
    inputUri: 's3://demo-input/sample.mp4',
    outputs: defaultOutputs('demo-output', 'simulated/1705319910000-abc123'),
    ...overrides,
  };
}

describe('buildEvent', () => {
  it.each(JOB_STATUSES)('builds a %s event the listener schema accepts, with the MediaConvert envelope', (status) => {
    const env = seededBuildEnv();
    const at = Date.UTC(2024, 0, 15, 12, 0, 0, 789);
    const event = buildEvent(status, job(), at, env);
    expectValid(event);
    expect(event).toMatchObject({
      version: '0',
      'detail-type': 'MediaConvert Job State Change',
      source: 'aws.mediaconvert',
      account: '123456789012',
      region: 'eu-west-1',
      time: '2024-01-15T12:00:00Z',
      resources: ['arn:aws:mediaconvert:eu-west-1:123456789012:jobs/1705319910000-abc123'],
    });
    expect(event.id).toMatch(UUID);
    expect(event.detail).toMatchObject({
      timestamp: at,
      accountId: '123456789012',
      queue: 'arn:aws:mediaconvert:eu-west-1:123456789012:queues/Default',
      jobId: '1705319910000-abc123',
      status,
      userMetadata: { app: 'demo', inputKey: 'sample.mp4', postId: '42' },
    });
    // Envelope keys in MediaConvert's order.
    expect(Object.keys(event)).toEqual(['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail']);
  });

  it('COMPLETE: MP4 and thumbnail FILE_GROUPs, HLS renditions in outputFilePaths and the multivariant playlist in playlistFilePaths', () => {
    const { detail } = buildEvent('COMPLETE', job(), 1, seededBuildEnv());
    const groups = detail.outputGroupDetails!;
    expect(groups.map((g) => g.type)).toEqual(['FILE_GROUP', 'HLS_GROUP', 'FILE_GROUP']);
    expect(groups[0]!.outputDetails![0]!.outputFilePaths).toEqual(['s3://demo-output/simulated/1705319910000-abc123/mp4/sample.mp4']);
    expect(groups[0]!.playlistFilePaths).toBeUndefined();
    expect(groups[1]!.playlistFilePaths).toEqual(['s3://demo-output/simulated/1705319910000-abc123/hls/sample.m3u8']);
    expect(groups[1]!.outputDetails!.map((o) => o.outputFilePaths![0])).toEqual(
      ['_360', '_540', '_720', '_1080'].map((m) => `s3://demo-output/simulated/1705319910000-abc123/hls/sample${m}.m3u8`),
    );
    expect(groups[1]!.outputDetails!.map((o) => o.videoDetails!.heightInPx)).toEqual([360, 540, 720, 1080]);
    // Frame capture reports the last image: 30 s at one frame every 5 s → 7 images, .0000000 to .0000006.
    expect(groups[2]!.outputDetails![0]!.outputFilePaths).toEqual(['s3://demo-output/simulated/1705319910000-abc123/thumbnails/sample.0000006.jpg']);
  });

  it('COMPLETE with only the given outputs', () => {
    const outputs = { mp4: ['s3://b/one.mp4', 's3://b/two.mp4'], hls: hlsOutputsFor('s3://b/hls/main.m3u8') };
    const { detail } = buildEvent('COMPLETE', job({ outputs }), 1, seededBuildEnv());
    expect(detail.outputGroupDetails!.map((g) => g.type)).toEqual(['FILE_GROUP', 'HLS_GROUP']);
    expect(detail.outputGroupDetails![0]!.outputDetails!.flatMap((o) => o.outputFilePaths)).toEqual(['s3://b/one.mp4', 's3://b/two.mp4']);
    expect(detail.outputGroupDetails![1]!.playlistFilePaths).toEqual(['s3://b/hls/main.m3u8']);
    expect(detail.outputGroupDetails![1]!.outputDetails![0]!.outputFilePaths).toEqual(['s3://b/hls/main_360.m3u8']);
  });

  it('thumbnail paths: a .jpg as is, a folder or stem gets the last capture number', () => {
    expect(thumbnailPathFor('s3://b/t/x.0000003.jpg')).toBe('s3://b/t/x.0000003.jpg');
    expect(thumbnailPathFor('s3://b/t/')).toBe('s3://b/t/sample.0000006.jpg');
    expect(thumbnailPathFor('s3://b/t/poster')).toBe('s3://b/t/poster.0000006.jpg');
  });

  it('ERROR carries errorCode and errorMessage (defaults, or the given ones)', () => {
    const env = seededBuildEnv();
    expect(buildEvent('ERROR', job(), 1, env).detail).toMatchObject({ errorCode: 1010, errorMessage: expect.stringContaining('s3://demo-input/sample.mp4') });
    expect(buildEvent('ERROR', job(), 1, env, { errorCode: 1040, errorMessage: 'boom' }).detail).toMatchObject({ errorCode: 1040, errorMessage: 'boom' });
  });

  it('the other statuses carry their own fields', () => {
    const env = seededBuildEnv();
    expect(buildEvent('QUEUE_HOP', job(), 1, env).detail).toMatchObject({
      previousQueue: 'arn:aws:mediaconvert:eu-west-1:123456789012:queues/Alternate',
      priority: 0,
      previousPriority: 0,
    });
    expect(buildEvent('NEW_WARNING', job(), 1, env).detail).toMatchObject({ warningCode: expect.any(String), warningMessage: expect.any(String) });
    expect(buildEvent('INPUT_INFORMATION', job(), 1, env).detail.inputDetails![0]).toMatchObject({ id: 1, uri: 's3://demo-input/sample.mp4' });
    const update = buildEvent('STATUS_UPDATE', job(), 1, env, { progressStep: 1 }).detail;
    expect(update.jobProgress).toMatchObject({ currentPhase: 'TRANSCODING', jobPercentComplete: 38, retryCount: 0 });
    expect(update.jobProgress!.phaseProgress).toMatchObject({ PROBING: { status: 'COMPLETE' }, TRANSCODING: { status: 'PROGRESSING' }, UPLOADING: { status: 'PENDING' } });
    for (const s of ['PROGRESSING', 'CANCELED'] as const) {
      expect(Object.keys(buildEvent(s, job(), 1, env).detail)).toEqual(['timestamp', 'accountId', 'queue', 'jobId', 'status', 'userMetadata']);
    }
  });

  it('is deterministic for a given clock and random source, and fresh ids otherwise', () => {
    const a = buildEvent('COMPLETE', job(), 1, seededBuildEnv(7));
    const b = buildEvent('COMPLETE', job(), 1, seededBuildEnv(7));
    expect(a).toEqual(b);
    expect(buildEvent('COMPLETE', job(), 1, seededBuildEnv(8)).id).not.toBe(a.id);
  });
});

describe('job ids and time', () => {
  it('look like MediaConvert job ids, created before now', () => {
    const env = seededBuildEnv(1);
    const ids = Array.from({ length: 50 }, () => makeJobId(env));
    for (const id of ids) {
      expect(id).toMatch(JOB_ID_PATTERN);
      expect(Number(id.split('-')[0])).toBeLessThan(env.now());
    }
    expect(new Set(ids).size).toBe(50);
    expect(makeJobId(env, 1671476818694)).toMatch(/^1671476818694-[a-z0-9]{6}$/);
  });

  it('time is ISO-8601 to the second', () => {
    expect(isoSeconds(Date.UTC(2022, 11, 19, 19, 7, 12, 999))).toBe('2022-12-19T19:07:12Z');
    expect(isoSeconds(Date.now())).toMatch(ISO_SECONDS);
  });
});

describe('buildSequence', () => {
  const statuses = (events: JobStateChangeEvent[]) => events.map((e) => e.detail.status);

  it('COMPLETE: PROGRESSING → STATUS_UPDATE ×4 (rising, through the phases) → COMPLETE → late INPUT_INFORMATION, timestamps rising to now', () => {
    const env = seededBuildEnv(3);
    const events = buildSequence('COMPLETE', job(), env);
    expect(statuses(events)).toEqual(['PROGRESSING', 'STATUS_UPDATE', 'STATUS_UPDATE', 'STATUS_UPDATE', 'STATUS_UPDATE', 'COMPLETE', 'INPUT_INFORMATION']);
    const stamps = events.map((e) => e.detail.timestamp as number);
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]!).toBeGreaterThan(stamps[i - 1]!);
    expect(stamps.at(-1)).toBe(env.now());
    // The job existed before its first event.
    expect(Number(job().jobId.split('-')[0])).toBeLessThan(stamps[0]!);
    const times = events.map((e) => Date.parse(e.time));
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
    const updates = events.filter((e) => e.detail.status === 'STATUS_UPDATE').map((e) => e.detail.jobProgress!);
    expect(updates.map((u) => u.jobPercentComplete)).toEqual(PROGRESS_STEPS.map((s) => s.job));
    expect(updates.map((u) => u.currentPhase)).toEqual(['PROBING', 'TRANSCODING', 'TRANSCODING', 'UPLOADING']);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    events.forEach(expectValid);
  });

  it('ERROR fails during transcoding; CANCELED is accepted; a non-terminal status is not', () => {
    const env = seededBuildEnv(4);
    expect(statuses(buildSequence('ERROR', job(), env, { errorCode: 1030 }))).toEqual(['PROGRESSING', 'STATUS_UPDATE', 'STATUS_UPDATE', 'ERROR', 'INPUT_INFORMATION']);
    expect(buildSequence('ERROR', job(), env, { errorCode: 1030 })[3]!.detail.errorCode).toBe(1030);
    expect(statuses(buildSequence('CANCELED', job(), env))[3]).toBe('CANCELED');
    expect(() => buildSequence('PROGRESSING', job(), env)).toThrow(/COMPLETE, ERROR or CANCELED/);
  });

  it('duplicate sends each event twice with the same id; shuffle keeps the events and changes the order', () => {
    const env = seededBuildEnv(5);
    const events = buildSequence('COMPLETE', job(), env);
    const doubled = duplicateEvents(events);
    expect(doubled).toHaveLength(14);
    expect(doubled[0]).toBe(doubled[1]);
    for (let seed = 0; seed < 20; seed++) {
      const shuffled = shuffleEvents(doubled, seededBuildEnv(seed));
      expect(shuffled).not.toEqual(doubled);
      expect([...shuffled].sort((a, b) => a.id.localeCompare(b.id))).toEqual([...doubled].sort((a, b) => a.id.localeCompare(b.id)));
    }
    expect(shuffleEvents([1, 2], { random: () => 0.99 })).toEqual([2, 1]);
  });
});

describe('planSimulation', () => {
  const spec: SimulationSpec = { status: 'COMPLETE', sequence: false, duplicate: false, shuffle: false, count: 1 };
  const setting = { account: '111122223333', region: 'us-east-1' };

  it('defaults: the templates naming under the configured output bucket, or the placeholder', () => {
    const [withConfig] = planSimulation(spec, { ...setting, app: 'demo', inputBucket: 'demo-input', outputBucket: 'demo-output' }, seededBuildEnv());
    const detail = withConfig!.events[0]!.detail;
    expect(detail.outputGroupDetails![0]!.outputDetails![0]!.outputFilePaths![0]).toBe(`s3://demo-output/simulated/${withConfig!.jobId}/mp4/sample.mp4`);
    expect(detail.userMetadata).toEqual({ app: 'demo', inputKey: 'sample.mp4' });
    const [bare] = planSimulation({ ...spec, postId: '7' }, setting, seededBuildEnv());
    expect(bare!.events[0]!.detail.outputGroupDetails![0]!.outputDetails![0]!.outputFilePaths![0]).toMatch(/^s3:\/\/vidpipe-example-output\//);
    expect(bare!.events[0]!.detail.userMetadata).toMatchObject({ postId: '7' });
  });

  it('--count makes distinct jobs; --job-id is used as given; --sequence --duplicate --shuffle apply per job', () => {
    const jobs = planSimulation({ ...spec, count: 30 }, setting, seededBuildEnv());
    expect(new Set(jobs.map((j) => j.jobId)).size).toBe(30);
    expect(planSimulation({ ...spec, jobId: 'my-job' }, setting, seededBuildEnv())[0]!.events[0]!.detail.jobId).toBe('my-job');
    const [seq] = planSimulation({ ...spec, sequence: true, duplicate: true, shuffle: true }, setting, seededBuildEnv());
    expect(seq!.events).toHaveLength(14);
    expect(seq!.events.every((e) => e.detail.jobId === seq!.jobId)).toBe(true);
  });
});
