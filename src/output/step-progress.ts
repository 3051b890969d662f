/**
 * Per-resource progress while setup, status and teardown work (issue 12, item 7): on a terminal an ora spinner on
 * stderr says what is running, and each finished resource stays as a line; without a terminal a plain line per
 * finished resource; nothing at all with --json or --quiet (stdout is never touched). ora is imported only on a TTY.
 */
import type { Output } from './output.js';

export interface StepProgress {
  /** A resource started. */
  start(label: string): void;
  /** A resource finished: ok, failed, or skipped (with why). `started` is the label start() was given, if other. */
  finish(label: string, outcome: 'ok' | 'failed' | 'skipped', detail?: string, started?: string): void;
  stop(): void;
}

const silent: StepProgress = { start() {}, finish() {}, stop() {} };

export async function createStepProgress(out: Output, title: string, total: number, options: { /** Keep a line per finished step (default). */ persist?: boolean } = {}): Promise<StepProgress> {
  if (out.json || out.verbosity === 'quiet' || total === 0) return silent;
  const running = new Set<string>();
  let finished = 0;
  const mark = { ok: out.ec.green('✔'), failed: out.ec.red('✖'), skipped: out.ec.yellow('–') };
  // A terminal that reports no width (e.g. a pseudo-terminal nobody sized) would make a spinner redraw endlessly:
  // plain lines there.
  const width = (out.stderr as { columns?: number }).columns ?? 0;
  if (!out.interactive || width <= 0) {
    if (options.persist === false) return silent;
    return {
      start() {},
      finish(label, outcome, detail) {
        finished++;
        out.stderr.write(`${mark[outcome]} ${label}${detail ? ` (${detail})` : ''} [${finished}/${total}]\n`);
      },
      stop() {},
    };
  }
  const { default: ora } = await import('ora');
  // Interactive was decided above (a terminal with a width); ora would also turn itself off whenever CI is set.
  const spinner = ora({ stream: out.stderr, text: `${title}…`, isEnabled: true }).start();
  const text = () => `${title} ${finished}/${total}${running.size ? `: ${[...running].slice(0, 3).join(', ')}${running.size > 3 ? ` +${running.size - 3}` : ''}` : ''}`;
  return {
    start(label) {
      running.add(label);
      spinner.text = text();
    },
    finish(label, outcome, detail, started) {
      running.delete(started ?? label);
      finished++;
      if (options.persist === false && outcome === 'ok') spinner.text = text();
      else {
        spinner.stopAndPersist({ symbol: mark[outcome], text: `${label}${detail ? ` (${detail})` : ''}` });
        spinner.start(text());
      }
    },
    stop() {
      spinner.stop();
    },
  };
}
