/**
 * Issue 11 item 10: a secrets file readable by others is refused (as ssh refuses an exposed key), at start and while
 * running, instead of being set back to 0600 quietly. The built CLI in a temp folder, and a real listener over HTTP.
 */
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretsExposedError, readSecrets, writeSecrets } from '../../src/config/secrets.js';
import { resolveAuth } from '../../src/listener/http/auth.js';
import { builtCliAvailable, runCli, spawnListen } from '../helpers/cli.js';
import { LISTENER_PATH, makeEvent, post, startTestListener, tempDir } from '../helpers/listener.js';

const KEY = 'vp_secret-permissions-test-key-0123456789';
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function secretsIn(dir: string, mode: number): string {
  const file = path.join(dir, '.vidpipe', 'secrets.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeSecrets(file, { apiKeys: [KEY] });
  chmodSync(file, mode);
  return file;
}

const withKey = (key = KEY) => ({ 'content-type': 'application/json', 'x-api-key': key });
const modeOf = (file: string) => statSync(file).mode & 0o777;

describe.skipIf(process.platform === 'win32')('a secrets file readable by others', () => {
  it('is refused, left as it is, with the chmod fix and the rotation hint', () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    for (const mode of [0o644, 0o640, 0o604, 0o620]) {
      const file = secretsIn(t.dir, mode);
      expect(() => readSecrets(file)).toThrow(SecretsExposedError);
      expect(modeOf(file)).toBe(mode);
    }
    const file = secretsIn(t.dir, 0o600);
    expect(readSecrets(file)?.apiKeys).toEqual([KEY]);
  });

  it.skipIf(!builtCliAvailable())('vidpipe listen refuses to start (exit 2), says how to fix it, never prints the key', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const file = secretsIn(t.dir, 0o644);
    const res = await runCli(['listen', '--port', '0'], { cwd: t.dir, timeoutMs: 20_000 });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`${file} is accessible by others (mode 0644)`);
    expect(res.stderr).toContain(`chmod 600 ${file}`);
    expect(res.stderr).toContain('vidpipe setup --rotate-key');
    expect(res.stderr + res.stdout).not.toContain(KEY);
    // Not set back quietly, and nothing created: no database.
    expect(modeOf(file)).toBe(0o644);
    expect(existsSync(path.join(t.dir, 'vidpipe.db'))).toBe(false);
  });

  it('while running: its keys stop being accepted once the mode changes, and are accepted again once it is private', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const file = secretsIn(t.dir, 0o600);
    const auth = resolveAuth({ env: {}, secretsFile: file, insecure: false });
    const exposed: SecretsExposedError[] = [];
    const changed: number[] = [];
    Object.assign(auth.config.reload ?? {}, { intervalMs: 0, onExposed: (e: SecretsExposedError) => exposed.push(e), onChange: () => changed.push(1) });
    const l = await startTestListener({ auth: auth.config });
    cleanups.push(() => l.cleanup());
    const event = () => makeEvent('progressing');

    expect((await post(l.url, event(), withKey())).status).toBe(200);
    chmodSync(file, 0o644);
    const refused = await post(l.url, event(), withKey());
    // 503 + Retry-After (EventBridge retries it), not 401: the key is not wrong, it is not trusted for now.
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.text).not.toContain(KEY);
    expect(refused.text).not.toContain('secrets');
    expect(exposed).toHaveLength(1);
    expect(exposed[0]?.message).toContain('mode 0644');
    // Reported once per change, not once per request.
    expect((await post(l.url, event(), withKey())).status).toBe(503);
    expect(exposed).toHaveLength(1);
    // The read API is closed too: nothing is served on an untrusted key.
    expect((await fetch(`${l.url}/api/videos`, { headers: withKey() })).status).toBe(503);

    chmodSync(file, 0o600);
    expect((await post(l.url, event(), withKey())).status).toBe(200);
    expect(changed).toHaveLength(1);
  });

  it.skipIf(!builtCliAvailable())('vidpipe listen says so on stderr and answers 503 until chmod 600', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const file = secretsIn(t.dir, 0o600);
    const l = await spawnListen([], { cwd: t.dir });
    cleanups.push(async () => {
      l.child.kill('SIGTERM');
      await l.exited;
    });
    const send = async () => (await fetch(`${l.url}${LISTENER_PATH}`, { method: 'POST', headers: withKey(), body: JSON.stringify(makeEvent('progressing')) })).status;
    expect(await send()).toBe(200);
    chmodSync(file, 0o604);
    // The file is looked at at most once a second: poll, as a client retrying would.
    let status = 200;
    for (let i = 0; i < 40 && status === 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = await send();
    }
    expect(status).toBe(503);
    await l.waitFor(/is accessible by others \(mode 0604\).*Requests get 503[\s\S]*chmod 600/);
    chmodSync(file, 0o600);
    for (let i = 0; i < 40 && status === 503; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = await send();
    }
    expect(status).toBe(200);
    await l.waitFor(/changed; now accepting API key/);
    expect(l.stderr() + l.stdout()).not.toContain(KEY);
  });
});
