/**
 * Frame-capture names (issue 12, item 4): MediaConvert numbers captures from .0000000. AWS's documented COMPLETE
 * event for a FILE_GROUP with frame capture (mediaconvert/latest/ug/file-group-with-frame-capture-output.html) reports
 * `s3://DOC-EXAMPLE-BUCKET/frameoutput/file.0000036.jpg` for a 185000 ms output at one frame every 5 s: frames at
 * 0, 5, …, 180 s are 37 images, the last numbered 36.
 */
import { describe, expect, it } from 'vitest';
import { jobOutputsFor } from '../../src/upload/job-request.js';
import { expectedOutputs, frameCaptureCount, frameCaptureName } from '../../templates/job-templates.js';

describe('frame-capture numbering', () => {
  it("matches AWS's sample: 185 s at one frame every 5 s → the last image is .0000036", () => {
    expect(frameCaptureCount(185_000, 5_000)).toBe(37);
    const out = expectedOutputs('DOC-EXAMPLE-BUCKET', 'x', 'file');
    expect(out.thumbnail(frameCaptureCount(185_000, 5_000))).toBe('s3://DOC-EXAMPLE-BUCKET/x/thumbnails/file.0000036.jpg');
  });
  it('starts at .0000000 and is capped by MaxCaptures', () => {
    expect(frameCaptureName('clip', 0)).toBe('clip.0000000.jpg');
    expect(expectedOutputs('out', 'p', 'clip').thumbnail(1)).toBe('s3://out/p/thumbnails/clip.0000000.jpg');
    expect(frameCaptureCount(3_000)).toBe(1);
    expect(frameCaptureCount(10 * 3600_000)).toBe(500);
  });
  it('the output catalogue of a thumbnails job names the first capture', () => {
    expect(jobOutputsFor('out', 'posts/1/clip.mp4', 'thumbnails')[1]).toBe('s3://out/posts/1/clip/thumbnails/clip.0000000.jpg');
  });
});
