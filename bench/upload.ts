/**
 * Part 4: upload throughput against moto. `vidpipe upload` beside `aws s3 cp` of the same 256 MiB file to the same
 * endpoint, alternating, median of 3 (wall clock of each child process, start-up included for both). Also the peak
 * RSS of vidpipe, which should stay near concurrency × part size whatever the file size.
 * Alone: `npm run bench -- upload`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { defaultConfig } from '../src/config/config.js';
import { startMoto } from '../test/helpers/moto.js';
import { writeFakeMp4 } from '../test/helpers/video-files.js';
import { CLI, machine, median, round, rssMiB } from './lib.js';

const MiB = 1024 * 1024;

interface Timed {
  ms: number;
  peakRssMiB?: number;
}

function timeChild(cmd: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(child.pid!) ?? 0)), 50);
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(sampler);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr}`));
      resolve({ ms, ...(peak ? { peakRssMiB: peak } : {}) });
    });
  });
}

export async function benchUpload(options: { sizeMiB?: number; runs?: number } = {}) {
  const sizeMiB = options.sizeMiB ?? 256;
  const runs = options.runs ?? 3;
  const size = sizeMiB * MiB;
  const moto = await startMoto();
  const dir = mkdtempSync(path.join(tmpdir(), 'vidpipe-bench-upload-'));
  const s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'bench-input' }));
    writeFileSync(path.join(dir, 'vidpipe.config.json'), JSON.stringify({ ...defaultConfig('bench'), trigger: 'none' }));
    const file = path.join(dir, 'bench.mp4');
    await writeFakeMp4(file, size);
    const env = { ...moto.env, NO_COLOR: '1' };
    const vidpipe: Timed[] = [];
    const awsCli: Timed[] = [];
    for (let i = 0; i < runs; i++) {
      vidpipe.push(await timeChild(process.execPath, [CLI, 'upload', file, '--key', `v${i}.mp4`, '--quiet'], { cwd: dir, env }));
      awsCli.push(await timeChild('aws', ['s3', 'cp', file, `s3://bench-input/a${i}.mp4`, '--endpoint-url', moto.endpoint, '--only-show-errors'], { cwd: dir, env }));
      for (const key of [`v${i}.mp4`, `a${i}.mp4`]) {
        const head = await s3.send(new HeadObjectCommand({ Bucket: 'bench-input', Key: key }));
        if (head.ContentLength !== size) throw new Error(`${key}: ${head.ContentLength} bytes stored, expected ${size}`);
        // moto keeps objects in memory: drop them between runs.
        await s3.send(new DeleteObjectCommand({ Bucket: 'bench-input', Key: key }));
      }
    }
    const mbps = (t: Timed) => size / 1e6 / (t.ms / 1000);
    return {
      machine: machine(),
      fileMiB: sizeMiB,
      runs,
      vidpipe: {
        medianMBps: round(median(vidpipe.map(mbps))),
        runsMBps: vidpipe.map((t) => round(mbps(t))),
        peakRssMiB: Math.max(...vidpipe.map((t) => t.peakRssMiB ?? 0)),
        settings: 'default: --part-size 8 --concurrency 4',
      },
      awsS3Cp: { medianMBps: round(median(awsCli.map(mbps))), runsMBps: awsCli.map((t) => round(mbps(t))), settings: 'default: 8 MB chunks, 10 concurrent requests' },
    };
  } finally {
    s3.destroy();
    await moto.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchUpload(), null, 2));
}
