/**
 * `vidpipe doctor [--trace] [--listener-url URL] [--timeout S]`: every hop an event travels, ok / warn / fail with what
 * was seen and the one fix; exit 0 all pass, 4 a hop broken, 3 credentials or permissions.
 */
import type { Command } from 'commander';
import type { ChalkInstance } from 'chalk';
import { ExitCode, VidpipeError } from '../../errors.js';
import type { Check, DoctorReport } from '../../doctor/doctor.js';
import type { TraceHop, TraceReport } from '../../doctor/trace.js';
import { addAwsOptions, awsOptionsFrom, awsTargetFrom, commandContext, parseInteger, parseUrl } from '../context.js';
import { summaryOf } from './index.js';

export function registerDoctor(program: Command): void {
  const cmd = program
    .command('doctor')
    .description(summaryOf('doctor'))
    .option('--trace', 'also send one synthetic event through EventBridge (PutEvents, the simulator source) and follow it to the listener')
    .option('--timeout <seconds>', '--trace: how long to wait for the event at the listener (1-600)', '30')
    .option('--listener-url <url>', 'where the listener is reached (default: listener.url, else the local `vidpipe listen`)');
  addAwsOptions(cmd).action(async (opts: Record<string, unknown>, command: Command) => {
    const { globals, out } = commandContext(command);
    const timeoutMs = parseInteger(String(opts.timeout ?? '30'), '--timeout', 1, 600) * 1000;
    const listenerUrl = typeof opts.listenerUrl === 'string' ? parseUrl(opts.listenerUrl, '--listener-url') : undefined;
    const { requireConfig } = await import('../../config/config.js');
    const { runDoctor, exitCodeOf } = await import('../../doctor/doctor.js');
    const { openAwsSession } = await import('../aws-session.js');
    const config = await requireConfig(globals.configPath);
    const session = openAwsSession(awsTargetFrom(awsOptionsFrom(opts), config.region), out);
    try {
      const stream = !out.json;
      let hop = '';
      const report: DoctorReport & { trace?: TraceReport } = await runDoctor({
        config,
        configPath: globals.configPath,
        aws: session.aws,
        ...(listenerUrl ? { listenerUrl } : {}),
        onCheck: (c) => {
          if (!stream) return;
          if (c.hop !== hop) out.data(out.c.bold(`\n${hopTitle(c.hop)}`));
          hop = c.hop;
          out.data(checkLine(c, out.c));
        },
      });
      if (opts.trace) {
        if (stream) out.data(out.c.bold('\ntrace'));
        const { runTrace } = await import('../../doctor/trace.js');
        if (report.checks.find((c) => c.id === 'credentials')?.status === 'fail') {
          report.trace = { ok: false, jobId: '', source: config.simulatorSource, hops: [], lastSeen: 'nothing sent', fix: 'fix AWS access first' };
        } else {
          report.trace = await runTrace({
            config,
            configPath: globals.configPath,
            aws: session.aws,
            listener: report.listener,
            timeoutMs,
            onHop: (h) => stream && out.data(traceLine(h, out.c)),
          });
        }
        if (stream && !report.trace.ok) out.data(`  ${out.c.red('✖')} last seen: ${report.trace.lastSeen}${report.trace.fix ? `\n    fix: ${report.trace.fix}` : ''}`);
      }
      const failed = report.checks.filter((c) => c.status === 'fail');
      const warned = report.checks.filter((c) => c.status === 'warn');
      const traceFailed = report.trace !== undefined && !report.trace.ok;
      const exitCode = exitCodeOf(report.checks) || (traceFailed ? ExitCode.drift : ExitCode.ok);
      const doc = { ok: exitCode === 0, exitCode, account: report.account, region: report.region, listener: report.listener, checks: report.checks, ...(report.trace ? { trace: report.trace } : {}) };
      if (out.json) out.result(doc);
      else out.data(`\n${failed.length} failed, ${warned.length} warning(s), ${report.checks.filter((c) => c.status === 'ok').length} ok${report.trace ? `; trace ${report.trace.ok ? 'reached the listener' : 'did not reach the listener'}` : ''}`);
      out.debug(`${session.calls()} AWS calls in ${session.elapsed()} ms`);
      if (exitCode !== 0) {
        const first = failed[0];
        throw new VidpipeError(
          exitCode === ExitCode.aws ? 'DOCTOR_ACCESS' : 'DOCTOR_BROKEN_HOP',
          first ? `${failed.length} check(s) failed, first: ${first.title}: ${first.saw}` : `the trace event did not reach the listener (last seen: ${report.trace?.lastSeen})`,
          { hint: first?.fix ?? report.trace?.fix, exitCode, resultPrinted: true },
        );
      }
    } finally {
      session.close();
    }
  });
}

const HOPS: Record<string, string> = {
  aws: 'AWS access',
  upload: 'upload → S3 → Lambda',
  trigger: 'Lambda trigger',
  mediaconvert: 'MediaConvert',
  rule: 'EventBridge rule',
  delivery: 'delivery to the listener',
  monitoring: 'alarms and dead letters',
  listener: 'listener',
};

function hopTitle(hop: string): string {
  return HOPS[hop] ?? hop;
}

function checkLine(c: Check, color: ChalkInstance): string {
  const mark = { ok: color.green('ok  '), warn: color.yellow('warn'), fail: color.red('FAIL'), skip: color.dim('skip') }[c.status];
  const lines = [`  ${mark}  ${c.title}: ${c.saw}`];
  for (const l of c.lines ?? []) lines.push(`          ${color.dim(l)}`);
  if (c.fix && (c.status === 'fail' || c.status === 'warn')) lines.push(`          fix: ${c.fix}`);
  return lines.join('\n');
}

function traceLine(h: TraceHop, color: ChalkInstance): string {
  const mark = h.status === 'seen' ? color.green('✔') : color.red('✖');
  return `  ${mark} ${h.hop.padEnd(18)} ${h.ms !== undefined ? `+${(h.ms / 1000).toFixed(1)} s`.padEnd(9) : ''} ${h.detail}`;
}
