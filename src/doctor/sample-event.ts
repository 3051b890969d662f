/**
 * The documented MediaConvert COMPLETE event (mediaconvert/latest/ug/ev_status_complete.html), with the one fix the
 * docs sample needs to be JSON (`"code": 000000` → 0). `doctor` asks whether the rule's pattern matches it, with the
 * status changed to one the config forwards.
 */
import type { JobStatus } from '../events/types.js';

export function mediaConvertSampleEvent(status: JobStatus = 'COMPLETE'): Record<string, unknown> {
  return {
    version: '0',
    id: '1234abcd-12ab-34cd-56ef-1234567890ab',
    'detail-type': 'MediaConvert Job State Change',
    source: 'aws.mediaconvert',
    account: '111122223333',
    time: '2022-12-19T19:07:12Z',
    region: 'us-west-2',
    resources: ['arn:aws:mediaconvert:us-west-2::jobs/1671476818694-phptj0'],
    detail: {
      timestamp: 1671476832124,
      accountId: '111122223333',
      queue: 'arn:aws:mediaconvert:us-west-2:111122223333:queues/Default',
      jobId: '1671476818694-phptj0',
      status,
      userMetadata: {},
      warnings: [{ code: 0, count: 1 }],
      outputGroupDetails: [
        {
          outputDetails: [
            {
              outputFilePaths: ['s3://amzn-s3-demo-bucket/file/file.mp4'],
              durationInMs: 30041,
              videoDetails: { widthInPx: 1920, heightInPx: 1080, qvbrAvgQuality: 7.38, qvbrMinQuality: 7, qvbrMaxQuality: 8, qvbrMinQualityLocation: 2168, qvbrMaxQualityLocation: 25025 },
            },
          ],
          type: 'FILE_GROUP',
        },
      ],
      paddingInserted: 0,
      blackVideoDetected: 10,
      blackSegments: [{ start: 0, end: 10 }],
    },
  };
}
