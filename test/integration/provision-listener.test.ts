/**
 * The contract between `setup` and `vidpipe listen` (built CLI): the key setup gives the EventBridge connection is the
 * one the listener accepts, and after `setup --rotate-key` (and a listener restart) both the new and the previous
 * key are accepted. Events are sent with `simulate-complete`, which sends what EventBridge would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMediaConvertFake, type MediaConvertFake } from '../helpers/mediaconvert-fake.js';
import { MOTO_REGION, motoAvailable, startMoto, type Moto } from '../helpers/moto.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'vidpipe.js');

describe.runIf(motoAvailable())('setup → listen: the connection key is the key the listener accepts', () => {
  let moto: Moto;
  let fake: MediaConvertFake;
  let dir: string;
  let env: Record<string, string>;
  const listeners: ChildProcess[] = [];

  function vidpipe(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, NO_COLOR: '1', ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Starts `vidpipe listen --port 0` (no AWS needed) and resolves with its events URL. */
  async function listen(): Promise<{ url: string; stop: () => Promise<void> }> {
    const child = spawn(process.execPath, [BIN, 'listen', '--port', '0', '--db', path.join(dir, 'listener.db')], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: dir, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    listeners.push(child);
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const end = Date.now() + 15_000;
    for (;;) {
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m) {
        const stop = async () => {
          if (child.exitCode !== null) return;
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await exited;
        };
        return { url: m[1]!, stop };
      }
      if (child.exitCode !== null || Date.now() > end) throw new Error(`vidpipe listen did not start:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  beforeAll(async () => {
    if (!existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
    [moto, fake] = await Promise.all([startMoto(), startMediaConvertFake({ region: MOTO_REGION })]);
    env = { ...moto.env, ...fake.env };
    dir = mkdtempSync(path.join(tmpdir(), 'vidpipe-chain-'));
  });
  afterEach(() => {
    for (const l of listeners.splice(0)) if (l.exitCode === null) l.kill('SIGKILL');
  });
  afterAll(async () => {
    await Promise.all([moto?.stop(), fake?.close()]);
  });

  it('accepts the key setup made, and after --rotate-key and a restart both the new and the previous key', async () => {
    expect((await vidpipe(['init', '--yes', '--app', 'chain', '--listener-url', 'https://listener.example.test/aws/listener/eventbridge/video', '--auth-header', 'x-vidpipe-key', '--trigger', 'none'])).code).toBe(0);
    expect((await vidpipe(['setup', '--yes'])).code).toBe(0);

    let listener = await listen();
    // simulate-complete sends the newest key of the secrets file in the configured header, as the connection does.
    const first = await vidpipe(['simulate-complete', '--to', listener.url]);
    expect(first.code, first.stderr).toBe(0);
    await listener.stop();

    const secretsFile = path.join(dir, '.vidpipe', 'secrets.json');
    const [oldKey] = JSON.parse(readFileSync(secretsFile, 'utf8')).apiKeys as string[];
    const rotated = await vidpipe(['setup', '--yes', '--rotate-key']);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stderr).toContain('Restart `vidpipe listen`');
    const keys = JSON.parse(readFileSync(secretsFile, 'utf8')).apiKeys as string[];
    expect(keys).toEqual([expect.not.stringMatching(oldKey!), oldKey]);

    listener = await listen();
    const withNew = await vidpipe(['simulate-complete', '--to', listener.url]);
    expect(withNew.code, withNew.stderr).toBe(0);
    const withOld = await vidpipe(['simulate-complete', '--to', listener.url], { VIDPIPE_API_KEY: oldKey! });
    expect(withOld.code, withOld.stderr).toBe(0);
    const withWrong = await vidpipe(['simulate-complete', '--to', listener.url], { VIDPIPE_API_KEY: 'vp_not-a-key' });
    expect(withWrong.code).toBe(5);
    await listener.stop();
  });
});
