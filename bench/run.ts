/**
 * `npm run bench`: every part beside its baseline in the same run; a table on stdout, bench/results.json with the
 * machine's description. Parts can be picked: `npm run bench -- listener burst startup upload` (default: all).
 * Quick mode for a smoke run: BENCH_QUICK=1 (fewer events, smaller file).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { machine, median, ROOT, round } from './lib.js';
import { benchBurst, benchListener } from './listener.js';
import { benchStartup } from './startup.js';

const quick = process.env.BENCH_QUICK === '1';
const wanted = new Set(process.argv.slice(2).length ? process.argv.slice(2) : ['listener', 'postgres', 'footprint', 'burst', 'startup', 'upload', 'local']);

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const results: Record<string, unknown> = { machine: machine(), quick };
const rows: string[][] = [];
const row = (part: string, figure: string, value: string, baseline: string, ratio: string, target: string) => rows.push([part, figure, value, baseline, ratio, target]);
const pct = (r: number) => `${round(r * 100, 1)} %`;
const ok = (pass: boolean) => (pass ? 'met' : 'MISSED');

/** Each throughput part runs this many times, fresh servers and database each time; the table shows medians. */
const ROUNDS = quick ? 1 : Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const runsNote = ROUNDS > 1 ? `median of ${ROUNDS}` : '1 run';
async function rounds<T>(part: string, run: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 1; i <= ROUNDS; i++) {
    process.stderr.write(`  ${part}: round ${i} of ${ROUNDS}\n`);
    out.push(await run());
  }
  return out;
}
/** The median of one figure over the rounds, and every round's value (to see the spread). */
const med = <T>(runs: T[], pick: (r: T) => number, digits = 0) => round(median(runs.map(pick)), digits);
const spread = <T>(runs: T[], pick: (r: T) => number, fmt: (n: number) => string = String) => (runs.length > 1 ? ` (${runs.map((r) => fmt(pick(r))).join(', ')})` : '');

if (wanted.has('listener')) {
  process.stderr.write('listener: bare fastify, then vidpipe listen (events, then duplicates), per round…\n');
  const runs = await rounds('listener', () => benchListener(quick ? { events: 10_000, bareSeconds: 3 } : {}));
  const ratio = med(runs, (r) => r.ratioToBare, 3);
  const dupRatio = med(runs, (r) => r.duplicatesRatioToBare, 3);
  const p99 = med(runs, (r) => r.listener.p99);
  const rss = med(runs, (r) => r.listener.rssMiBAfter ?? Number.NaN, 1);
  const r0 = runs[0]!;
  results.listener = { rounds: runs, medians: { ratioToBare: ratio, duplicatesRatioToBare: dupRatio, p99, rssMiBAfter: rss } };
  row('listener', `events/s (${r0.connections} conn, durable; ${runsNote})`, String(med(runs, (r) => r.listener.reqPerSec)), `${med(runs, (r) => r.bare.reqPerSec)} bare fastify`, `${pct(ratio)}${spread(runs, (r) => r.ratioToBare, pct)}`, `≥ 30 %: ${ok(ratio >= 0.3)}`);
  row('listener', 'latency p50 / p97.5 / p99 ms', `${med(runs, (r) => r.listener.p50)} / ${med(runs, (r) => r.listener.p97_5)} / ${p99}`, `${med(runs, (r) => r.bare.p50)} / ${med(runs, (r) => r.bare.p97_5)} / ${med(runs, (r) => r.bare.p99)}`, spread(runs, (r) => r.listener.p99), `p99 ≤ 10: ${ok(p99 <= 10)}`);
  row('listener', `RSS after ${r0.listener.events} events`, `${rss} MiB`, '', spread(runs, (r) => r.listener.rssMiBAfter ?? Number.NaN), `≤ 150 MiB: ${ok(rss <= 150)}`);
  row('listener', 'non-2xx / stored once (all rounds)', `${runs.reduce((n, r) => n + r.listener.non2xx, 0)} / ${runs.every((r) => r.storedExactlyOnce)}`, '', '', '');
  const manyRatio = med(runs, (r) => r.many.ratioToBare, 3);
  row('listener', `events/s (${r0.many.connections} conn, durable)`, String(med(runs, (r) => r.many.listener.reqPerSec)), `${med(runs, (r) => r.many.bare.reqPerSec)} bare fastify`, `${pct(manyRatio)}${spread(runs, (r) => r.many.ratioToBare, pct)}`, '');
  row('listener', `${r0.many.connections} conn: p50 / p99 ms; stored once`, `${med(runs, (r) => r.many.listener.p50)} / ${med(runs, (r) => r.many.listener.p99)}; ${runs.every((r) => r.many.storedExactlyOnce)}`, `${med(runs, (r) => r.many.bare.p50)} / ${med(runs, (r) => r.many.bare.p99)}`, '', '');
  row('duplicates', 'events/s (old ids, idempotent path)', String(med(runs, (r) => r.duplicates.reqPerSec)), `${med(runs, (r) => r.bare.reqPerSec)} bare fastify`, `${pct(dupRatio)}${spread(runs, (r) => r.duplicatesRatioToBare, pct)}`, `≥ 50 %: ${ok(dupRatio >= 0.5)}`);
  row('duplicates', 'latency p50 / p99 ms', `${med(runs, (r) => r.duplicates.p50)} / ${med(runs, (r) => r.duplicates.p99)}`, '', '', '');
}

if (wanted.has('postgres')) {
  process.stderr.write('postgres: bare fastify, then vidpipe listen on PostgreSQL (one instance, then two on one database), per round…\n');
  const { benchPostgres } = await import('./postgres.js');
  const all = await rounds('postgres', () => benchPostgres(quick ? { events: 6_000, bareSeconds: 3 } : {}));
  const skipped = all.find((r) => 'skipped' in r);
  if (skipped && 'skipped' in skipped) {
    results.postgres = skipped;
    row('postgres', 'skipped', skipped.skipped, '', '', '');
  } else {
    const runs = all.filter((r): r is Exclude<typeof r, { skipped: string }> => !('skipped' in r));
    const first = runs[0]!;
    const one = med(runs, (r) => r.one.ratioToBare, 3);
    const two = med(runs, (r) => r.two.ratioToBare, 3);
    const bareRate = `${med(runs, (r) => r.bare.reqPerSec)} bare fastify`;
    results.postgres = { rounds: runs, medians: { oneRatioToBare: one, twoRatioToBare: two } };
    row('postgres', `1 instance: events/s (${first.connections} conn, durable; ${runsNote})`, String(med(runs, (r) => r.one.reqPerSec)), bareRate, `${pct(one)}${spread(runs, (r) => r.one.ratioToBare, pct)}`, `≥ 15 %: ${ok(one >= 0.15)}`);
    row('postgres', '1 instance: p50 / p99 ms; non-2xx; stored once', `${med(runs, (r) => r.one.p50)} / ${med(runs, (r) => r.one.p99)}; ${runs.reduce((n, r) => n + r.one.non2xx, 0)}; ${runs.every((r) => r.one.storedExactlyOnce)}`, `${med(runs, (r) => r.bare.p50)} / ${med(runs, (r) => r.bare.p99)}`, '', '');
    row('postgres', `2 instances, 1 database: events/s (${first.connections} conn)`, String(med(runs, (r) => r.two.reqPerSec)), bareRate, `${pct(two)}${spread(runs, (r) => r.two.ratioToBare, pct)}`, '');
    row('postgres', '2 instances: p99 ms; non-2xx; stored once', `${med(runs, (r) => r.two.p99)}; ${runs.reduce((n, r) => n + r.two.non2xx, 0)}; ${runs.every((r) => r.two.storedExactlyOnce)}`, '', '', '');
  }
}

if (wanted.has('footprint')) {
  process.stderr.write(`footprint: one listener, ${quick ? '200,000' : '1,000,000'} events, RSS along the way…\n`);
  const { benchFootprint } = await import('./listener.js');
  const r = await benchFootprint(quick ? { checkpoints: [50_000, 100_000, 200_000] } : {});
  results.footprint = r;
  const first = r.rssMiB[0]!;
  const last = r.rssMiB.at(-1)!;
  const peak = Math.max(...r.rssMiB.map((c) => c.rssMiB ?? 0));
  row('footprint', `RSS after ${r.rssMiB.map((c) => `${c.events / 1000}k`).join(' / ')} events, MiB`, r.rssMiB.map((c) => c.rssMiB).join(' / '), '', `${r.growth}× from ${first.events / 1000}k to ${last.events / 1000}k`, `≤ 150 MiB, flat (≤ 1.1×): ${ok(peak <= 150 && r.growth <= 1.1)}`);
  row('footprint', 'non-2xx / stored once', `${r.non2xx} / ${r.storedExactlyOnce}`, '', '', '');
}

if (wanted.has('burst')) {
  process.stderr.write('burst: 10,000 events at 2,000/s…\n');
  const r = await benchBurst(quick ? { events: 2_000 } : {});
  results.burst = r;
  row('burst', `${r.events} at ${r.ratePerSec}/s: max / p99 ms`, `${r.figures.max} / ${r.figures.p99}`, '5000 (EventBridge timeout)', '', `all < 5 s: ${ok(r.maxLatencyUnder5s && r.allAcknowledged)}`);
  row('burst', 'acknowledged / stored exactly once', `${r.figures.requests - r.figures.non2xx} / ${r.storedExactlyOnce}`, '', '', ok(r.storedExactlyOnce));
}

if (wanted.has('startup')) {
  process.stderr.write('startup: cold starts, round-robin…\n');
  const r = await benchStartup(quick ? 10 : 15);
  results.startup = r;
  const floor = r.medians['node -e 0']!;
  for (const [name, ms] of Object.entries(r.medians)) {
    if (name === 'node -e 0') continue;
    const target = name === 'vidpipe --help' ? `≤ 1.5× node: ${ok((r.ratios[name] ?? 99) <= 1.5)}` : '';
    row('startup', `${name} (median of ${r.runs}) ms`, String(ms), `${floor} node -e 0`, `${r.ratios[name]}×`, target);
  }
}

if (wanted.has('upload')) {
  process.stderr.write('upload: vidpipe upload beside aws s3 cp against moto…\n');
  const { benchUpload } = await import('./upload.js');
  const r = await benchUpload(quick ? { sizeMiB: 64, runs: 1 } : {});
  results.upload = r;
  const ratio = round(r.vidpipe.medianMBps / r.awsS3Cp.medianMBps, 2);
  row('upload', `${r.fileMiB} MiB to moto S3, MB/s (median of ${r.runs})`, String(r.vidpipe.medianMBps), `${r.awsS3Cp.medianMBps} aws s3 cp`, `${ratio}×`, `≥ aws: ${ok(ratio >= 1)}`);
  row('upload', 'vidpipe peak RSS', `${r.vidpipe.peakRssMiB} MiB`, '', '', '');
}

if (wanted.has('local')) {
  process.stderr.write('local: a 10 s 720p clip through vidpipe local (mp4, hls, thumbnails) beside the same ffmpeg commands…\n');
  const { benchLocal } = await import('./local.js');
  const r = await benchLocal(quick ? { runs: 1 } : {});
  results.local = r;
  row('local', `10 s 720p, upload → COMPLETE stored, s (median of ${r.runs})`, String(r.vidpipeMedianSeconds), `${r.ffmpegMedianSeconds} same ffmpeg commands`, `${r.ratio}×`, '');
  row('local', 'fastest run of each, s', String(Math.min(...r.vidpipeSeconds)), `${Math.min(...r.ffmpegSeconds)} same ffmpeg commands`, `${r.ratioOfFastest}×`, '');
}

const { renderTable } = await import('../src/output/output.js');
const table = renderTable(['part', 'figure', 'vidpipe', 'baseline (same run)', 'ratio', 'target'], rows);
process.stdout.write(`${table}\n`);
results.table = table;
mkdirSync(path.join(ROOT, 'bench'), { recursive: true });
writeFileSync(path.join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
process.stderr.write(`wrote ${path.join('bench', 'results.json')}\n`);
