/**
 * The CLI never surprises (issue 12): the built CLI as a child process, against moto + the MediaConvert fake.
 *   - item 6: setup without a terminal, or with --json, and without --yes changes nothing (exit 2, hint names --yes);
 *   - item 10: one region precedence for every verb: a profile's region is enough;
 *   - item 12: --json usage errors are one JSON document; `vidpipe` alone prints help to stdout; upload --help shows
 *     the global options;
 *   - item 13: a minimal config is completed with the documented defaults;
 *   - item 7: the account/region/profile/endpoint above the plan, the plan as a diff, per-resource progress (a spinner
 *     on a terminal — run under `script`, a pseudo-terminal — plain lines otherwise, nothing with --json).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsRequests } from '../helpers/aws-calls.js';
import { BIN, runCli } from '../helpers/cli.js';
import { startMediaConvertFake, type MediaConvertFake } from '../helpers/mediaconvert-fake.js';
import { motoAvailable, startMoto, type Moto } from '../helpers/moto.js';
import { writeFakeMp4 } from '../helpers/video-files.js';

const LISTENER_URL = 'https://listener.example.test/aws/listener/eventbridge/video';

function freshDir(name = 'vidpipe-contract-'): string {
  return mkdtempSync(path.join(tmpdir(), name));
}

describe('help and usage errors', () => {
  it('`vidpipe` alone prints the help on stdout and exits 0', async () => {
    const run = await runCli([], { cwd: freshDir() });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: vidpipe/);
    expect(run.stdout).toContain('setup');
    expect(run.stderr).toBe('');
  });

  it('upload --help lists the global options like every other verb', async () => {
    for (const verb of ['upload', 'setup']) {
      const run = await runCli([verb, '--help'], { cwd: freshDir() });
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/Global Options:[\s\S]*--json[\s\S]*--config/);
    }
  });

  it('a usage error with --json is one JSON document with code, message and hint, exit 2', async () => {
    for (const args of [['setup', '--bogus', '--json'], ['--json', 'status', '--region']]) {
      const run = await runCli(args, { cwd: freshDir() });
      expect(run.code).toBe(2);
      const doc = JSON.parse(run.stdout);
      expect(Object.keys(doc)).toEqual(['error']);
      expect(doc.error).toMatchObject({ code: expect.stringMatching(/^[A-Z_]+$/), message: expect.any(String), hint: expect.stringContaining('--help') });
    }
    const unknown = await runCli(['nope', '--json'], { cwd: freshDir() });
    expect(JSON.parse(unknown.stdout).error).toMatchObject({ code: 'UNKNOWN_COMMAND', hint: 'Run `vidpipe --help` for the verbs.' });
  });
});

describe.runIf(motoAvailable())('setup confirmation, region precedence and minimal config (built CLI, moto)', () => {
  let moto: Moto;
  let fake: MediaConvertFake;
  /** moto's endpoint and the fake's, credentials from a profile only: no AWS_REGION, no AWS_DEFAULT_REGION. */
  let profileEnv: Record<string, string>;
  let home: string;

  beforeAll(async () => {
    [moto, fake] = await Promise.all([startMoto({ record: true }), startMediaConvertFake()]);
    home = freshDir('vidpipe-home-');
    mkdirSync(path.join(home, '.aws'));
    writeFileSync(path.join(home, '.aws', 'config'), '[profile pipeline]\nregion = us-east-1\n');
    writeFileSync(path.join(home, '.aws', 'credentials'), '[pipeline]\naws_access_key_id = test\naws_secret_access_key = test\n');
    profileEnv = { HOME: home, AWS_ENDPOINT_URL: moto.endpoint, ...fake.env, AWS_EC2_METADATA_DISABLED: 'true', AWS_REGION: '', AWS_DEFAULT_REGION: '', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '' };
  });
  afterAll(async () => {
    await Promise.all([moto?.stop(), fake?.close()]);
  });

  /** A folder whose config is only what must be said: the listener's URL (everything else has a default). */
  function minimalProject(): string {
    const dir = path.join(freshDir(), 'shop-videos');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'vidpipe.config.json'), JSON.stringify({ listener: { url: LISTENER_URL }, trigger: 'none' }));
    return dir;
  }

  it('a minimal config is accepted: the app comes from the folder name, the rest from the defaults', async () => {
    const dir = minimalProject();
    const run = await runCli(['setup', '--plan', '--json', '--profile', 'pipeline'], { cwd: dir, env: profileEnv });
    expect(run.code, run.stderr).toBe(0);
    const plan = JSON.parse(run.stdout).plan;
    expect(plan.steps.map((s: { name: string }) => s.name)).toEqual(expect.arrayContaining(['shop-videos-input', 'shop-videos-output', 'shop-videos-mediaconvert-events']));
  });

  it('without a terminal, or with --json, setup without --yes changes nothing and exits 2 naming --yes', async () => {
    const dir = minimalProject();
    const mark = moto.recordedRequests().length;
    fake.requests.length = 0;
    const plain = await runCli(['setup', '--profile', 'pipeline'], { cwd: dir, env: profileEnv });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/needs confirmation, and there is no terminal to ask on\. Nothing was changed\./);
    expect(plain.stderr).toMatch(/hint: Pass --yes to confirm/);
    const json = await runCli(['setup', '--json', '--profile', 'pipeline'], { cwd: dir, env: profileEnv });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'CONFIRMATION_REQUIRED', hint: expect.stringContaining('--yes') });
    const mutating = awsRequests(moto, fake).slice(0).filter((c, i) => i >= mark && c.mutating);
    expect(mutating).toEqual([]);
    expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('every AWS verb takes the region from the profile when nothing else names one', async () => {
    const dir = minimalProject();
    const env = profileEnv;
    const p = ['--profile', 'pipeline'];
    await writeFakeMp4(path.join(dir, 'clip.mp4'), 2048);
    const runs: Record<string, { code: number | null; stdout: string; stderr: string }> = {
      setup: await runCli(['setup', '--plan', ...p], { cwd: dir, env }),
      status: await runCli(['status', ...p], { cwd: dir, env }),
      teardown: await runCli(['teardown', '--yes', ...p], { cwd: dir, env }),
      policy: await runCli(['policy', ...p], { cwd: dir, env }),
      upload: await runCli(['upload', 'clip.mp4', '--post', '1', ...p], { cwd: dir, env }),
      simulate: await runCli(['simulate-complete', '--via', 'eventbridge', '--json', ...p], { cwd: dir, env }),
    };
    for (const [verb, run] of Object.entries(runs)) expect(`${verb}: ${run.stderr}`).not.toMatch(/No AWS region/);
    // status: everything is missing (exit 4); upload: the bucket is missing (exit 4); the others succeed.
    expect(Object.fromEntries(Object.entries(runs).map(([v, r]) => [v, r.code]))).toEqual({ setup: 0, status: 4, teardown: 0, policy: 0, upload: 4, simulate: 0 });
    expect(JSON.parse(runs.policy!.stdout).Statement[0].Resource).toBe('arn:aws:s3:::shop-videos-input/*');
    expect(JSON.parse(runs.simulate!.stdout)).toMatchObject({ via: 'eventbridge', region: 'us-east-1' });
  });

  it('--region wins over the config, which wins over AWS_REGION', async () => {
    const dir = minimalProject();
    writeFileSync(path.join(dir, 'vidpipe.config.json'), JSON.stringify({ region: 'eu-west-1', listener: { url: LISTENER_URL }, trigger: 'none' }));
    const env = { ...profileEnv, AWS_REGION: 'ap-south-1' };
    const fromConfig = await runCli(['simulate-complete', '--via', 'eventbridge', '--json', '--profile', 'pipeline'], { cwd: dir, env });
    expect(JSON.parse(fromConfig.stdout).region).toBe('eu-west-1');
    const fromFlag = await runCli(['simulate-complete', '--via', 'eventbridge', '--json', '--profile', 'pipeline', '--region', 'us-west-2'], { cwd: dir, env });
    expect(JSON.parse(fromFlag.stdout).region).toBe('us-west-2');
  });

  it('says where it acts, shows the plan as a diff, and reports progress per resource', async () => {
    const dir = minimalProject();
    const p = ['--profile', 'pipeline'];
    const applied = await runCli(['setup', '--yes', ...p], { cwd: dir, env: profileEnv });
    expect(applied.code, applied.stderr).toBe(0);
    const where = new RegExp(`account 123456789012 · region us-east-1 \\(from profile\\) · profile pipeline · endpoint ${moto.endpoint} \\(mediaconvert: ${fake.endpoint}\\)`);
    expect(applied.stderr).toMatch(where);
    // Without a terminal: one plain line per resource changed.
    expect(applied.stderr).toMatch(/^✔ created EventBridge rule shop-videos-mediaconvert-events \(\d+ ms\) \[\d+\/\d+\]$/m);

    const config = JSON.parse(readFileSync(path.join(dir, 'vidpipe.config.json'), 'utf8'));
    writeFileSync(path.join(dir, 'vidpipe.config.json'), JSON.stringify({ ...config, rateLimitPerSecond: 25, statuses: ['COMPLETE', 'ERROR', 'PROGRESSING'] }));
    const plan = await runCli(['setup', '--plan', ...p], { cwd: dir, env: profileEnv });
    expect(plan.stdout).toMatch(/ACTION\s+RESOURCE\s+NAME\s+FIELD\s+AWS\s+WANTED/);
    expect(plan.stdout).toMatch(/update\s+EventBridge API destination\s+shop-videos-listener\s+InvocationRateLimitPerSecond\s+10\s+25/);
    expect(plan.stdout).toMatch(/update\s+EventBridge rule\s+shop-videos-mediaconvert-events\s+EventPattern\.detail\.status\s+\["COMPLETE","ERROR"\]\s+\["COMPLETE","ERROR","PROGRESSING"\]/);

    const json = await runCli(['setup', '--yes', '--json', ...p], { cwd: dir, env: profileEnv });
    expect(json.code, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc.target).toMatchObject({ account: '123456789012', region: 'us-east-1', regionSource: 'profile', profile: 'pipeline' });
    const step = doc.plan.steps.find((s: { resource: string }) => s.resource === 'api-destination');
    expect(step.changes).toEqual([{ field: 'InvocationRateLimitPerSecond', current: 10, wanted: 25 }]);
    expect(json.stderr).not.toMatch(/✔ updated/);

    // On a terminal: a spinner while reading and applying, the plan, then the result.
    const env = { ...process.env, ...profileEnv, NO_COLOR: '1' };
    // Not spawnSync: the MediaConvert fake answers from this process's event loop.
    const child = spawn('script', ['-qfec', `stty cols 400 rows 40; ${process.execPath} ${BIN} status ${p.join(' ')}`, '/dev/null'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let raw = '';
    child.stdout.on('data', (c) => (raw += c));
    await new Promise((resolve) => child.on('close', resolve));
    const screen = raw.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '');
    expect(screen).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] reading/);
    expect(screen).toMatch(where);
    expect(screen).toMatch(/ok\s+EventBridge API destination\s+shop-videos-listener/);
  });
});
