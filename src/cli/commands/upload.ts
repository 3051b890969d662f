/**
 * `vidpipe upload <file...>`: thin command; the work is in src/upload/upload-service.ts (imported on use, so
 * `vidpipe --help` does not load the AWS SDK).
 */
import { Command, Option } from '../commander.js';
import { JOB_TEMPLATE_NAMES, type JobTemplateName } from '../../../templates/job-templates.js';
import { UsageError } from '../../errors.js';
import { addAwsOptions, awsOptionsFrom, commandContext, parseInteger, parseUrl } from '../context.js';
import { summaryOf } from './index.js';

// Post ids go into S3 user metadata (an HTTP header: US-ASCII) and MediaConvert UserMetadata.
const POST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function registerUpload(program: Command): void {
  const cmd = new Command('upload')
    .description(summaryOf('upload'))
    .argument('<file...>', 'video files (MP4/MOV, MKV/WebM, AVI, MPEG-TS/PS, FLV, WMV, MXF)')
    .option('--post <id>', 'the post the video belongs to (object metadata post-id; the job links back to it)')
    .option('--key <key>', 'object key (one file only; default: posts/<id>/<file name>, or the file name)')
    .addOption(new Option('--template <name>', 'job template for --start-job (default: the first in the config)').choices([...JOB_TEMPLATE_NAMES]))
    .option('--start-job', 'create the MediaConvert job directly (for trigger "none"; with the Lambda it is the same job)')
    .option('--wait', 'with --start-job: follow the job to COMPLETE/ERROR/CANCELED (exit 5 if it fails)')
    .option('--listener-url <url>', 'listener base URL --wait reads job state from (default: the local listener at HOST/PORT or 127.0.0.1:3000)')
    .option('--public-listener', "with --wait: read job state from the config's public listener.url instead of the local listener")
    .option('--concurrency <n>', 'parts uploaded at once, 1-16', '4')
    .option('--part-size <MiB>', 'multipart part size in MiB, 5-5120 (memory ≈ concurrency × part size)', '8')
    .addOption(new Option('--local', 'store the file in the running `vidpipe local` and start its jobs as the Lambda would (no AWS)').conflicts(['startJob']));
  addAwsOptions(cmd).action(async (files: string[], o: Record<string, unknown>, self: Command) => {
    const { globals, out } = commandContext(self);
    const postId = o.post as string | undefined;
    if (postId !== undefined && !POST_ID.test(postId))
      throw new UsageError('BAD_POST_ID', `--post must be 1-128 letters, digits, or . _ : -, got "${postId}".`);
    const key = o.key as string | undefined;
    if (key !== undefined && (key === '' || key.startsWith('/') || Buffer.byteLength(key) > 1024))
      throw new UsageError('BAD_KEY', '--key must be a non-empty S3 key of at most 1024 bytes, without a leading "/".');
    if (typeof o.listenerUrl === 'string') parseUrl(o.listenerUrl, '--listener-url');
    if (o.local) {
      const { runLocalUpload, renderLocalUploads } = await import('../../local/upload.js');
      const local = await runLocalUpload(
        { files, ...(postId !== undefined ? { postId } : {}), ...(key !== undefined ? { key } : {}), ...(o.template ? { template: o.template as JobTemplateName } : {}), wait: Boolean(o.wait) },
        { out, configPath: globals.configPath },
      );
      return out.result({ uploads: local }, (c) => renderLocalUploads(local, c));
    }
    const { runUpload } = await import('../../upload/upload-service.js');
    const reports = await runUpload(
      {
        files,
        ...(postId !== undefined ? { postId } : {}),
        ...(key !== undefined ? { key } : {}),
        ...(o.template ? { template: o.template as JobTemplateName } : {}),
        startJob: Boolean(o.startJob),
        wait: Boolean(o.wait),
        concurrency: parseInteger(String(o.concurrency), '--concurrency', 1, 16),
        // S3's part size limits, 5 MiB to 5 GiB.
        partSizeMiB: parseInteger(String(o.partSize), '--part-size (MiB)', 5, 5120),
        ...(typeof o.listenerUrl === 'string' ? { listenerUrl: o.listenerUrl } : {}),
        ...(o.publicListener ? { publicListener: true } : {}),
        aws: awsOptionsFrom(o),
      },
      { out, configPath: globals.configPath },
    );
    out.result({ uploads: reports }, (c) =>
      reports
        .map((r) => {
          const lines = [r.uri];
          if (r.job) lines.push(`job ${r.job.id} ${r.job.status === 'COMPLETE' ? c.green(r.job.status) : r.job.status}`, ...(r.job.outputs ?? []).map((u) => `  ${u}`));
          return lines.join('\n');
        })
        .join('\n'),
    );
  });
  program.addCommand(cmd);
}
