/**
 * Upload progress on stderr: a live bar on a terminal (cli-progress: bytes, %, rate, ETA); plain lines every 10 %
 * (or 5 s) when stderr is a pipe or a CI log; nothing with --quiet.
 */
import type { Output } from '../output/output.js';

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** MB/s (10^6 bytes per second), the unit `aws s3 cp` and most tools report. */
export function megabytesPerSecond(bytes: number, ms: number): number {
  return ms > 0 ? Math.round((bytes / 1e6 / (ms / 1000)) * 10) / 10 : 0;
}

export interface ProgressReporter {
  update(loaded: number): void;
  /** Ends the bar (or the lines); `ok` false on failure or interrupt. */
  stop(ok: boolean): void;
}

export async function createProgress(out: Output, label: string, total: number): Promise<ProgressReporter> {
  const started = Date.now();
  const stats = (loaded: number) => {
    const elapsed = (Date.now() - started) / 1000;
    const rate = elapsed > 0 ? loaded / elapsed : 0;
    return { rate, eta: rate > 0 ? (total - loaded) / rate : Infinity };
  };
  if (out.verbosity === 'quiet') return { update: () => undefined, stop: () => undefined };

  if (out.interactive) {
    const { SingleBar, Presets } = await import('cli-progress');
    const bar = new SingleBar(
      {
        stream: process.stderr,
        format: `${label} {bar} {percentage}% | {done}/{size} | {speed}/s | ETA {left}`,
        hideCursor: true,
        barsize: 24,
        fps: 5,
        // The default would leave the bar drawn over by the next message; stop() prints a newline instead.
        clearOnComplete: false,
      },
      Presets.shades_classic,
    );
    bar.start(total, 0, { done: formatBytes(0), size: formatBytes(total), speed: formatBytes(0), left: '?' });
    return {
      update(loaded) {
        const { rate, eta } = stats(loaded);
        bar.update(loaded, { done: formatBytes(loaded), speed: formatBytes(rate), left: formatDuration(eta) });
      },
      stop() {
        bar.stop();
      },
    };
  }

  let nextPercent = 10;
  let lastLine = started;
  return {
    update(loaded) {
      const percent = total > 0 ? Math.floor((loaded / total) * 100) : 100;
      if (percent < nextPercent && Date.now() - lastLine < 5000) return;
      if (percent >= 100) return; // the completion line says it
      while (nextPercent <= percent) nextPercent += 10;
      lastLine = Date.now();
      const { rate, eta } = stats(loaded);
      out.info(`${label}: ${percent}% ${formatBytes(loaded)}/${formatBytes(total)} ${formatBytes(rate)}/s ETA ${formatDuration(eta)}`);
    },
    stop: () => undefined,
  };
}
