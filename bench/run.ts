/**
 * `npm run bench`: every part beside its baseline in the same run; a table on stdout, bench/results.json with the
 * machine's description. Parts can be picked: `npm run bench -- listener burst startup upload` (default: all).
 * Quick mode for a smoke run: BENCH_QUICK=1 (fewer events, smaller file).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { machine, ROOT, round } from './lib.js';
import { benchBurst, benchListener } from './listener.js';
import { benchStartup } from './startup.js';

const quick = process.env.BENCH_QUICK === '1';
const wanted = new Set(process.argv.slice(2).length ? process.argv.slice(2) : ['listener', 'postgres', 'burst', 'startup', 'upload', 'local']);

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const results: Record<string, unknown> = { machine: machine(), quick };
const rows: string[][] = [];
const row = (part: string, figure: string, value: string, baseline: string, ratio: string, target: string) => rows.push([part, figure, value, baseline, ratio, target]);
const pct = (r: number) => `${round(r * 100, 1)} %`;
const ok = (pass: boolean) => (pass ? 'met' : 'MISSED');

if (wanted.has('listener')) {
  process.stderr.write('listener: bare fastify, then vidpipe listen (events, then duplicates)…\n');
  const r = await benchListener(quick ? { events: 10_000, bareSeconds: 3 } : {});
  results.listener = r;
  row('listener', `events/s (${r.connections} conn, durable)`, String(r.listener.reqPerSec), `${r.bare.reqPerSec} bare fastify`, pct(r.ratioToBare), `≥ 30 %: ${ok(r.ratioToBare >= 0.3)}`);
  row('listener', 'latency p50 / p97.5 / p99 ms', `${r.listener.p50} / ${r.listener.p97_5} / ${r.listener.p99}`, `${r.bare.p50} / ${r.bare.p97_5} / ${r.bare.p99}`, '', `p99 ≤ 25: ${ok(r.listener.p99 <= 25)}`);
  row('listener', `RSS after ${r.listener.events} events`, `${r.listener.rssMiBAfter} MiB`, '', '', '');
  row('listener', 'non-2xx / stored once', `${r.listener.non2xx} / ${r.storedExactlyOnce}`, '', '', '');
  const m = r.many;
  row('listener', `events/s (${m.connections} conn, durable)`, String(m.listener.reqPerSec), `${m.bare.reqPerSec} bare fastify`, pct(m.ratioToBare), '');
  row('listener', `${m.connections} conn: p50 / p99 ms; stored once`, `${m.listener.p50} / ${m.listener.p99}; ${m.storedExactlyOnce}`, `${m.bare.p50} / ${m.bare.p99}`, '', '');
  row('duplicates', 'events/s (idempotent path)', String(r.duplicates.reqPerSec), `${r.bare.reqPerSec} bare fastify`, pct(r.duplicatesRatioToBare), `≥ 50 %: ${ok(r.duplicatesRatioToBare >= 0.5)}`);
  row('duplicates', 'latency p50 / p99 ms', `${r.duplicates.p50} / ${r.duplicates.p99}`, '', '', '');
}

if (wanted.has('postgres')) {
  process.stderr.write('postgres: bare fastify, then vidpipe listen on PostgreSQL (one instance, then two on one database)…\n');
  const { benchPostgres } = await import('./postgres.js');
  const r = await benchPostgres(quick ? { events: 6_000, bareSeconds: 3 } : {});
  results.postgres = r;
  if ('skipped' in r) row('postgres', 'skipped', r.skipped, '', '', '');
  else {
    row('postgres', `1 instance: events/s (${r.connections} conn, durable)`, String(r.one.reqPerSec), `${r.bare.reqPerSec} bare fastify`, pct(r.one.ratioToBare), `≥ 15 %: ${ok(r.one.ratioToBare >= 0.15)}`);
    row('postgres', '1 instance: p50 / p99 ms; non-2xx; stored once', `${r.one.p50} / ${r.one.p99}; ${r.one.non2xx}; ${r.one.storedExactlyOnce}`, `${r.bare.p50} / ${r.bare.p99}`, '', '');
    row('postgres', `2 instances, 1 database: events/s (${r.connections} conn)`, String(r.two.reqPerSec), `${r.bare.reqPerSec} bare fastify`, pct(r.two.ratioToBare), '');
    row('postgres', '2 instances: p99 ms; non-2xx; stored once', `${r.two.p99}; ${r.two.non2xx}; ${r.two.storedExactlyOnce}`, '', '', '');
  }
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
    const target = name === 'vidpipe --help' ? `≤ 2× node: ${ok((r.ratios[name] ?? 99) <= 2)}` : '';
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
