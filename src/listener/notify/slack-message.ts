/** The Slack text for a finished job. Built when sending, from the job as stored then (late events included). */
import type { Job } from '../core/job-state.js';
import { postStateOf } from '../core/job-state.js';

const MAX_OUTPUTS_LISTED = 10;

export function buildSlackMessage(kind: 'COMPLETE' | 'ERROR', job: Job): { text: string } {
  const subject = `${job.postId ? `post ${job.postId}` : 'no post'} (job ${job.jobId})`;
  if (kind === 'ERROR')
    return { text: `:x: Video failed: ${subject}\nError ${job.errorCode ?? 'unknown'}: ${job.errorMessage ?? 'no message'}` };
  const lines = [`:white_check_mark: Video ready: ${subject}`];
  const facts: string[] = [];
  if (job.durationMs !== null) facts.push(`duration ${(job.durationMs / 1000).toFixed(1)} s`);
  if (job.width !== null && job.height !== null) facts.push(`${job.width}×${job.height}`);
  if (facts.length) lines.push(facts.join(' · '));
  const post = postStateOf(job);
  if (post.videoUrl) lines.push(`Video: ${post.videoUrl}`);
  if (post.thumbnailUrl) lines.push(`Thumbnail: ${post.thumbnailUrl}`);
  const outputs = job.outputs ?? [];
  if (outputs.length) {
    lines.push(`Outputs (${outputs.length}):`);
    for (const o of outputs.slice(0, MAX_OUTPUTS_LISTED)) lines.push(`• ${o.kind} ${o.uri}`);
    if (outputs.length > MAX_OUTPUTS_LISTED) lines.push(`• … and ${outputs.length - MAX_OUTPUTS_LISTED} more`);
  }
  return { text: lines.join('\n') };
}
