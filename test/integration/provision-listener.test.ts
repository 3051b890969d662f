/**
 * The contract between `setup` and `vidpipe listen` (built CLI): the key setup gives the EventBridge connection is the
 * one the listener accepts, and after `setup --rotate-key` the running listener (no restart) accepts both the new and
 * the previous key. Events are sent with `simulate-complete`, which sends what EventBridge would.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnListen } from '../helpers/cli.js';
import { startMediaConvertFake, type MediaConvertFake } from '../helpers/mediaconvert-fake.js';
import { MOTO_REGION, motoAvailable, startMoto, type Moto } from '../helpers/moto.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe.runIf(motoAvailable())('setup → listen: the connection key is the key the listener accepts', () => {
  let moto: Moto;
  let fake: MediaConvertFake;
  let dir: string;
  let env: Record<string, string>;
  const listeners: ChildProcess[] = [];

  function vidpipe(args: string[], extraEnv: Record<string, string> = {}) {
    return runCli(args, { cwd: dir, env: { HOME: dir, ...env, ...extraEnv } });
  }


  /** Starts `vidpipe listen --port 0` (no AWS needed) and resolves with its events URL. */
  async function listen(): Promise<{ url: string; stop: () => Promise<void> }> {
    const l = await spawnListen(['--db', path.join(dir, 'listener.db')], { cwd: dir, env: { HOME: dir } });
    listeners.push(l.child);
    const stop = async () => {
      l.child.kill('SIGTERM');
      await l.exited;
    };
    return { url: `${l.url}/aws/listener/eventbridge/video`, stop };
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

  it('accepts the key setup made, and after --rotate-key, without a restart, both the new and the previous key', async () => {
    expect((await vidpipe(['init', '--yes', '--app', 'chain', '--listener-url', 'https://listener.example.test/aws/listener/eventbridge/video', '--auth-header', 'x-vidpipe-key', '--trigger', 'none'])).code).toBe(0);
    expect((await vidpipe(['setup', '--yes'])).code).toBe(0);

    const listener = await listen();
    // simulate-complete sends the newest key of the secrets file in the configured header, as the connection does.
    const first = await vidpipe(['simulate-complete', '--to', listener.url]);
    expect(first.code, first.stderr).toBe(0);

    const secretsFile = path.join(dir, '.vidpipe', 'secrets.json');
    const [oldKey] = JSON.parse(readFileSync(secretsFile, 'utf8')).apiKeys as string[];
    const rotated = await vidpipe(['setup', '--yes', '--rotate-key']);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stderr).toMatch(/A running `vidpipe listen` that reads .*secrets\.json accepts the new key within a second/);
    const keys = JSON.parse(readFileSync(secretsFile, 'utf8')).apiKeys as string[];
    expect(keys).toEqual([expect.not.stringMatching(oldKey!), oldKey]);

    // The listener looks at the file at most once a second: the new key may get one 401 (which EventBridge retries).
    const deadline = Date.now() + 2_500;
    let withNew = await vidpipe(['simulate-complete', '--to', listener.url]);
    while (withNew.code === 5 && Date.now() < deadline) withNew = await vidpipe(['simulate-complete', '--to', listener.url]);
    expect(withNew.code, withNew.stderr).toBe(0);
    const withOld = await vidpipe(['simulate-complete', '--to', listener.url], { VIDPIPE_API_KEY: oldKey! });
    expect(withOld.code, withOld.stderr).toBe(0);
    const withWrong = await vidpipe(['simulate-complete', '--to', listener.url], { VIDPIPE_API_KEY: 'vp_not-a-key' });
    expect(withWrong.code).toBe(5);
    await listener.stop();
  });
});
