/**
 * `vidpipe replay --since 2h [--until …] [--no-wait]` replays the archive to the vidpipe rule and follows it to the end;
 * `vidpipe replay --status` lists the last replays. Ctrl-C while following cancels the replay.
 */
import type { Command } from 'commander';
import { InterruptedError, UsageError, VidpipeError } from '../../errors.js';
import { renderTable } from '../../output/output.js';
import { addAwsOptions, awsOptionsFrom, awsTargetFrom, commandContext } from '../context.js';
import { summaryOf } from './index.js';

export function registerReplay(program: Command): void {
  const cmd = program
    .command('replay')
    .description(summaryOf('replay'))
    .option('--since <when>', 'start of the window: a duration before now (30m, 2h, 1d) or an ISO time')
    .option('--until <when>', 'end of the window (default: now)')
    .option('--status', 'list the last replays of this app and their state')
    .option('--no-wait', 'start the replay and return without following it');
  addAwsOptions(cmd).action(async (opts: Record<string, unknown>, command: Command) => {
    const { globals, out } = commandContext(command);
    const replay = await import('../../replay/replay.js');
    if (opts.status && (opts.since || opts.until)) throw new UsageError('STATUS_WITH_WINDOW', '--status lists replays; --since/--until start one. Use one or the other.');
    if (!opts.status && typeof opts.since !== 'string') throw new UsageError('SINCE_MISSING', 'Say which events to replay: --since 2h (or an ISO time), optionally --until.', { hint: '`vidpipe replay --status` lists recent replays.' });
    const now = Date.now();
    const since = typeof opts.since === 'string' ? replay.parseWhen(opts.since, '--since', now) : undefined;
    const until = typeof opts.until === 'string' ? replay.parseWhen(opts.until, '--until', now) : new Date(now);
    const { requireConfig } = await import('../../config/config.js');
    const { openAwsSession } = await import('../aws-session.js');
    const config = await requireConfig(globals.configPath);
    const session = openAwsSession(awsTargetFrom(awsOptionsFrom(opts), config.region), out);
    try {
      if (opts.status) {
        const replays = await replay.listReplays(session.aws, config);
        out.result({ replays }, () =>
          replays.length
            ? renderTable(
                ['replay', 'state', 'window', 'progress', 'started', 'ended'],
                replays.map((r) => [r.name, r.state + (r.stateReason ? ` (${r.stateReason})` : ''), `${r.eventStartTime ?? '?'} → ${r.eventEndTime ?? '?'}`, r.percent !== undefined ? `${r.percent} %` : '', r.replayStartTime ?? '', r.replayEndTime ?? '']),
              )
            : `No replays of ${config.app} yet.`,
        );
        return;
      }
      const started = await replay.startReplay({ config, aws: session.aws, since: since!, until, now: new Date(now) });
      for (const w of started.warnings) out.warn(w);
      out.info(`replay ${started.name}: ${started.since} → ${started.until} from archive ${started.archive} to ${started.rule}`);
      if (opts.wait === false) {
        out.result({ replay: started, state: 'STARTING' }, () => `Started ${started.name}; follow it with \`vidpipe replay --status\`.`);
        return;
      }
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.once('SIGINT', onSigint);
      let final;
      try {
        final = await replay.followReplay(session.aws, started.name, {
          signal: abort.signal,
          onProgress: (r) => {
            const text = `${r.state}${r.percent !== undefined ? ` ${r.percent} %` : ''}${r.eventLastReplayedTime ? ` (events up to ${r.eventLastReplayedTime})` : ''}`;
            if (out.interactive) out.stderr.write(`\r  ${text}   `);
            else out.info(`  ${text}`);
          },
        });
      } finally {
        process.off('SIGINT', onSigint);
        if (out.interactive) out.stderr.write('\n');
      }
      if (abort.signal.aborted && !replay.TERMINAL_REPLAY_STATES.has(final.state)) {
        await replay.cancelReplay(session.aws, started.name);
        throw new InterruptedError(`Interrupted: replay ${started.name} cancelled (events already replayed stay delivered; the listener ignores repeats).`);
      }
      out.result({ replay: started, ...final }, () => `${started.name}: ${final.state}${final.stateReason ? ` (${final.stateReason})` : ''}`);
      if (final.state !== 'COMPLETED')
        throw new VidpipeError('REPLAY_NOT_COMPLETED', `Replay ${started.name} ended ${final.state}${final.stateReason ? `: ${final.stateReason}` : ''}.`, {
          hint: 'Run `vidpipe doctor` to check the rule and the delivery, then replay again.',
          exitCode: 5,
          resultPrinted: true,
        });
      out.success(`Replayed ${started.since} → ${started.until} to ${config.app}'s rule (a job's state does not change for an event it already has).`);
    } finally {
      session.close();
    }
  });
}
