/**
 * `vidpipe local`: the whole pipeline on this machine. The listener, a local MediaConvert (its REST API for the calls
 * vidpipe makes, running vidpipe's job templates with ffmpeg) and a storage for inputs and outputs, in one process.
 * The service lives in src/local/service.ts and is imported only when the verb runs.
 */
import type { Command } from 'commander';
import path from 'node:path';
import { DEFAULT_LISTEN_HOST, DEFAULT_LISTEN_PORT, DEFAULT_LISTENER_PATH, loadConfig } from '../../config/config.js';
import { UsageError } from '../../errors.js';
import { commandContext, parseInteger, parseUrl } from '../context.js';
import { summaryOf } from './index.js';

interface LocalFlags {
  port?: string;
  host?: string;
  mediaconvertPort: string;
  storage?: string;
  db?: string;
  concurrency: string;
  preset?: string;
  statusInterval: string;
  forwardTo?: string;
}

/** x264's presets (ffmpeg -preset). */
const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'];

export function registerLocal(program: Command): void {
  program
    .command('local')
    .description(summaryOf('local'))
    .option('--port <n>', 'listener port (env PORT; default 3000)')
    .option('--host <host>', 'address to bind (env HOST; default 127.0.0.1)')
    .option('--mediaconvert-port <n>', 'port of the local MediaConvert API (0: a free port)', '0')
    .option('--storage <dir|url>', 'where inputs and outputs go: a directory (default .vidpipe/local/storage) or an S3 endpoint URL such as moto')
    .option('--db <path>', "the listener's database (default .vidpipe/local/vidpipe.db)")
    .option('--concurrency <n>', 'jobs transcoding at once, 1 or 2', '1')
    .option('--preset <name>', `x264 preset for every output instead of the template's quality level (${X264_PRESETS.join(', ')}); ultrafast for fast tests`)
    .option('--status-interval <seconds>', 'seconds between STATUS_UPDATE events (MediaConvert: 10 at the least)', '1')
    .option('--forward-to <url>', 'relay every event to your app as well, as an API destination would (as listen --forward-to)')
    .action(async (flags: LocalFlags, cmd: Command) => {
      const { globals, out } = commandContext(cmd);
      const env = process.env;
      const config = await loadConfig(globals.configPath);
      const pick = (...values: Array<string | number | undefined>) => values.find((v) => v !== undefined && v !== '');
      const port = parseInteger(String(pick(flags.port, env.PORT, config?.listen?.port, DEFAULT_LISTEN_PORT)), flags.port !== undefined ? '--port' : 'PORT', 0, 65535);
      const host = String(pick(flags.host, env.HOST, config?.listen?.host, DEFAULT_LISTEN_HOST));
      const mediaconvertPort = parseInteger(flags.mediaconvertPort, '--mediaconvert-port', 0, 65535);
      const concurrency = parseInteger(flags.concurrency, '--concurrency', 1, 2);
      const statusSeconds = Number(flags.statusInterval);
      if (!Number.isFinite(statusSeconds) || statusSeconds < 0.2 || statusSeconds > 600)
        throw new UsageError('BAD_NUMBER', `--status-interval must be a number of seconds from 0.2 to 600, got "${flags.statusInterval}".`);
      if (flags.preset !== undefined && !X264_PRESETS.includes(flags.preset))
        throw new UsageError('BAD_PRESET', `--preset must be one of ${X264_PRESETS.join(', ')}, got "${flags.preset}".`);
      if (flags.storage !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(flags.storage) && !/^(https?|file):\/\//i.test(flags.storage))
        throw new UsageError('BAD_STORAGE', `--storage must be a directory, a file:// URL or an http(s):// S3 endpoint, got "${flags.storage}".`);
      if (flags.storage && /^https?:\/\//i.test(flags.storage)) parseUrl(flags.storage, '--storage');
      if (flags.forwardTo !== undefined) parseUrl(flags.forwardTo, '--forward-to');

      const { requireFfmpeg } = await import('../../local/ffmpeg.js');
      const ffmpeg = requireFfmpeg(env);
      const { startLocal } = await import('../../local/service.js');
      const service = await startLocal({
        configPath: globals.configPath,
        ffmpeg,
        port,
        host,
        mediaconvertPort,
        ...(flags.storage ? { storage: flags.storage } : {}),
        ...(flags.db ? { database: path.resolve(flags.db) } : {}),
        ...(flags.forwardTo ? { forwardTo: parseUrl(flags.forwardTo, '--forward-to').toString() } : {}),
        concurrency,
        ...(flags.preset ? { preset: flags.preset } : {}),
        statusIntervalMs: Math.round(statusSeconds * 1000),
        env,
        listenerLogLevel: globals.verbosity === 'verbose' ? 'info' : 'warn',
        listenerLogStream: process.stderr,
        log: (line) => {
          const { level, msg, jobId, ...rest } = line;
          const text = `${jobId ? `job ${String(jobId)}: ` : ''}${msg}${Object.keys(rest).length ? ` ${Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')}` : ''}`;
          if (level === 'error') out.error(text);
          else if (level === 'warn') out.warn(text);
          else out.info(text);
        },
      });
      const r = service.runtime;
      out.success(`vidpipe local is running (ffmpeg ${ffmpeg.version}, ${concurrency} job${concurrency === 1 ? '' : 's'} at a time${flags.preset ? `, preset ${flags.preset}` : ''})`);
      out.info(`listener:     ${service.listener.url}${DEFAULT_LISTENER_PATH} (${service.listener.authDescription})`);
      out.info(`read API:     ${service.listener.url}/api/videos/:jobId, /api/posts/:id (same credentials)`);
      out.info(`mediaconvert: ${r.mediaconvertEndpoint} (AWS_ENDPOINT_URL_MEDIACONVERT=${r.mediaconvertEndpoint} for \`upload --start-job\`)`);
      out.info(
        r.storage.kind === 'dir'
          ? `storage:      ${r.storage.location}/<bucket>/<key> (s3://${r.inputBucket}/…, s3://${r.outputBucket}/…); over HTTP at ${r.mediaconvertEndpoint}/files/<bucket>/<key>`
          : `storage:      S3 endpoint ${r.storage.location} (buckets ${r.inputBucket}, ${r.outputBucket})`,
      );
      out.info(`database:     ${service.database}; jobs: ${path.join(service.stateDir, 'jobs.json')}`);
      if (service.listener.generatedKey)
        out.stderr.write(`\nNo credentials were configured, so a new API key was generated and saved to .vidpipe/secrets.json (mode 0600).\nIt is shown only this once:\n\n  ${service.listener.generatedKey}\n\n`);
      if (flags.forwardTo) out.info(`forwarding:   every event to ${flags.forwardTo} (as an API destination: durable, retried, in order per job)`);
      for (const id of service.recovered.failed) out.warn(`job ${id}: was transcoding when vidpipe local last stopped; reported ERROR (not resumed).`);
      for (const id of service.recovered.resumed) out.info(`job ${id}: was waiting when vidpipe local last stopped; resumed (queued again).`);
      out.info('try: vidpipe upload clip.mp4 --post 1 --local   · Ctrl-C to stop');
      if (globals.json) out.result({ ...r, listenerIngestUrl: service.listener.ingestUrl.href, database: service.database, recovered: service.recovered });

      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      });
      const running = service.runner.active;
      out.info(`${signal}: stopping${running ? ` (killing ffmpeg for ${running} running job${running === 1 ? '' : 's'}; they will be reported failed on the next start)` : ''}…`);
      await service.close();
      out.info('stopped');
    });
}
