import { describe, expect, it } from 'vitest';
import type { JobStateChangeDetail } from '../../src/events/types.js';
import { mergeJobEvent, postStateOf, type Job } from '../../src/listener/core/job-state.js';
import { fixture } from '../helpers/listener.js';

const T = 1_700_000_000_000;

function detail(name: string, timestamp: number, extra: Record<string, unknown> = {}): JobStateChangeDetail {
  return { ...fixture(name).detail, jobId: 'job-1', timestamp, userMetadata: { postId: '7' }, ...extra } as JobStateChangeDetail;
}

function fold(events: JobStateChangeDetail[]): Job {
  let job: Job | undefined;
  for (const e of events) job = mergeJobEvent(job, e, e.timestamp as number, (e as { id?: string }).id ?? `${e.status}@${String(e.timestamp)}`);
  return job as Job;
}

/** A job's whole life, as MediaConvert emits it. */
const life = [
  detail('progressing', T),
  detail('input-information', T + 1),
  detail('status-update', T + 2, { jobProgress: { jobPercentComplete: 10, currentPhase: 'PROBING' } }),
  detail('status-update', T + 3, { jobProgress: { jobPercentComplete: 55, currentPhase: 'TRANSCODING' } }),
  detail('new-warning', T + 4),
  detail('queue-hop', T + 5, { queue: 'arn:aws:mediaconvert:us-west-2:1:queues/Fast' }),
  detail('status-update', T + 6, { jobProgress: { jobPercentComplete: 90, currentPhase: 'UPLOADING' }, queue: 'arn:aws:mediaconvert:us-west-2:1:queues/Fast' }),
  detail('complete-hls-group', T + 7, { queue: 'arn:aws:mediaconvert:us-west-2:1:queues/Fast' }),
];

function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('mergeJobEvent', () => {
  it('folds a life in order into the final job', () => {
    const job = fold(life);
    expect(job).toMatchObject({
      status: 'COMPLETE',
      progress: 100,
      currentPhase: null,
      inputUri: 's3://amzn-s3-demo-bucket/file/file.mp4',
      queue: 'arn:aws:mediaconvert:us-west-2:1:queues/Fast',
      warnings: [{ code: '0', count: 1 }, { code: '000000', message: 'Example warning message' }],
      durationMs: 180041,
      width: 1280,
      height: 720,
      postId: '7',
      firstEventAt: T,
      lastEventAt: T + 7,
      eventCount: 8,
    });
  });

  it('reaches the same job whatever the arrival order', () => {
    const expected = fold(life);
    for (let seed = 1; seed <= 200; seed++) expect(fold(shuffled(life, seed))).toEqual(expected);
  });

  it('never lets a non-terminal event overwrite a terminal status, but keeps its information', () => {
    const job = fold([detail('complete-file-group', T + 10), detail('progressing', T + 1), detail('input-information', T + 2)]);
    expect(job.status).toBe('COMPLETE');
    expect(job.errorCode).toBeNull();
    expect(job.inputUri).toBe('s3://amzn-s3-demo-bucket/file/file.mp4');
  });

  it('reports the newest phase while the job runs and none once it is terminal, whatever the arrival order', () => {
    const running = life.slice(0, -1);
    expect(fold(running)).toMatchObject({ status: 'PROGRESSING', currentPhase: 'UPLOADING', phaseAt: T + 6 });
    for (const end of ['complete-hls-group', 'error', 'canceled']) {
      const events = [...running, detail(end, T + 7)];
      for (let seed = 1; seed <= 50; seed++) expect(fold(shuffled(events, seed))).toMatchObject({ currentPhase: null, phaseAt: null });
    }
    // A STATUS_UPDATE newer than the terminal event (clocks differ) does not bring a phase back.
    expect(fold([detail('complete-file-group', T), detail('status-update', T + 100, { jobProgress: { jobPercentComplete: 99, currentPhase: 'UPLOADING' } })]).currentPhase).toBeNull();
  });

  it('keeps a terminal status even against a newer non-terminal event', () => {
    expect(fold([detail('error', T), detail('status-update', T + 100)]).status).toBe('ERROR');
  });

  it('never lowers progress: a late PROGRESSING or older STATUS_UPDATE keeps the highest', () => {
    const job = fold([
      detail('status-update', T + 5, { jobProgress: { jobPercentComplete: 60, currentPhase: 'TRANSCODING' } }),
      detail('status-update', T + 2, { jobProgress: { jobPercentComplete: 20, currentPhase: 'PROBING' } }),
      detail('progressing', T),
    ]);
    expect(job).toMatchObject({ status: 'PROGRESSING', progress: 60, currentPhase: 'TRANSCODING' });
  });

  it('keeps the first terminal state: a later ERROR does not flip a COMPLETE job, nor a later COMPLETE an ERROR; the contradiction is an anomaly', () => {
    const completeThenError = fold([detail('complete-file-group', T), detail('error', T + 5)]);
    expect(completeThenError).toMatchObject({ status: 'COMPLETE', errorCode: null, durationMs: 30041 });
    expect(completeThenError.anomalies).toEqual([expect.objectContaining({ status: 'ERROR', at: T + 5, eventId: `ERROR@${T + 5}` })]);
    expect(completeThenError.anomalies[0]?.reason).toMatch(/ERROR received for a job already COMPLETE/);
    // Whatever the arrival order.
    expect(fold([detail('error', T + 5), detail('complete-file-group', T)])).toEqual(completeThenError);
    const errorThenComplete = fold([detail('complete-file-group', T + 1), detail('error', T)]);
    expect(errorThenComplete).toMatchObject({ status: 'ERROR', errorCode: '1040', outputs: null });
    expect(errorThenComplete.anomalies.map((a) => a.status)).toEqual(['COMPLETE']);
    expect(fold([detail('complete-file-group', T)]).anomalies).toEqual([]);
  });

  it('property: any permutation of one event set — duplicates and equal timestamps included — folds to one final job', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const kinds = ['progressing', 'status-update', 'input-information', 'new-warning', 'queue-hop', 'complete-file-group', 'complete-hls-group', 'error', 'canceled'];
    for (let round = 0; round < 60; round++) {
      // Few distinct timestamps, so ties (also between terminal events) are common.
      const events = Array.from({ length: 3 + Math.floor(random() * 8) }, (_, i) => {
        const kind = kinds[Math.floor(random() * kinds.length)] as string;
        return { ...detail(kind, T + Math.floor(random() * 3)), id: `e${round}-${i}` } as JobStateChangeDetail;
      });
      const withDuplicates = [...events, ...events.filter(() => random() < 0.3)];
      const expected = fold(events);
      for (let p = 1; p <= 20; p++) expect(fold(shuffled(withDuplicates, p * 31 + round))).toEqual({ ...expected, eventCount: expect.any(Number) });
    }
  });

  it('accepts an ISO timestamp body the same way (the caller converts it)', () => {
    const job = mergeJobEvent(undefined, detail('progressing', 0, { timestamp: '2024-01-01T00:00:00Z' }), Date.parse('2024-01-01T00:00:00Z'));
    expect(job.firstEventAt).toBe(1704067200000);
  });
});

describe('postStateOf', () => {
  it('prefers the HLS playlist, then the MP4; takes the thumbnail; maps the status', () => {
    expect(postStateOf(fold([detail('complete-hls-group', T)]))).toEqual({ videoStatus: 'ready', videoUrl: 's3://amzn-s3-demo-bucket/hls/main.m3u8', thumbnailUrl: null });
    expect(postStateOf(fold([detail('complete-frame-capture', T)]))).toEqual({
      videoStatus: 'ready',
      videoUrl: 's3://DOC-EXAMPLE-BUCKET/file/file.mp4',
      thumbnailUrl: 's3://DOC-EXAMPLE-BUCKET/frameoutput/file.0000036.jpg',
    });
    expect(postStateOf(fold([detail('progressing', T)])).videoStatus).toBe('processing');
    expect(postStateOf(fold([detail('canceled', T)])).videoStatus).toBe('failed');
  });
});
