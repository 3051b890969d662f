/**
 * The authenticator follows the secrets file (key rotation without a listener restart): a real file in a temp folder,
 * rotated with the same rotateApiKey() `vidpipe setup --rotate-key` uses, and a controlled clock for the 1 s limit.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSecrets, rotateApiKey, writeSecrets } from '../../src/config/secrets.js';
import { createAuthenticator, describeAuth, resolveAuth, type AuthConfig } from '../../src/listener/http/auth.js';

const root = mkdtempSync(path.join(tmpdir(), 'vidpipe-auth-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function setUp(env: NodeJS.ProcessEnv = {}) {
  const secretsFile = path.join(root, `run-${++n}`, '.vidpipe', 'secrets.json');
  const first = resolveAuth({ env, secretsFile, insecure: false });
  let t = 0;
  const changes: AuthConfig[] = [];
  const errors: Error[] = [];
  Object.assign(first.config.reload ?? {}, { now: () => t, onChange: (c: AuthConfig) => changes.push(c), onError: (e: Error) => errors.push(e) });
  const check = createAuthenticator(first.config);
  return {
    secretsFile,
    first,
    check: (key: string) => check({ 'x-api-key': key }),
    advance: (ms: number) => (t += ms),
    changes,
    errors,
  };
}

describe('key rotation without a restart', () => {
  it('accepts a rotated key once the file is looked at again (at most once a second), keeps the previous one, drops the oldest after a third key', () => {
    const s = setUp();
    const k1 = s.first.generatedKey as string;
    expect(s.check(k1)).toBe('ok');

    const k2 = rotateApiKey(s.secretsFile).key;
    // Less than a second since the last look: the file is not read again (one stat per second at most).
    s.advance(500);
    expect(s.check(k2)).toBe('wrong');
    s.advance(500);
    expect(s.check(k2)).toBe('ok');
    expect(s.check(k1)).toBe('ok');
    expect(s.changes.map(describeAuth)).toEqual(['API key in header x-api-key (2 accepted)']);

    const k3 = rotateApiKey(s.secretsFile).key;
    s.advance(1000);
    expect(s.check(k3)).toBe('ok');
    expect(s.check(k2)).toBe('ok');
    expect(s.check(k1)).toBe('wrong');
    expect(s.changes).toHaveLength(2);
    expect(s.errors).toEqual([]);
  });

  it('keeps the previous keys when the file becomes invalid or empty, and reports it without the keys', () => {
    const s = setUp();
    const k1 = s.first.generatedKey as string;
    writeFileSync(s.secretsFile, `{"apiKeys": ["${k1}"`, { mode: 0o600 });
    s.advance(1000);
    expect(s.check(k1)).toBe('ok');
    writeSecrets(s.secretsFile, { apiKeys: [] });
    s.advance(1000);
    expect(s.check(k1)).toBe('ok');
    expect(s.errors.map((e) => e.message)).toEqual([`${s.secretsFile} is not valid JSON.`, `${s.secretsFile} has no credentials left`]);
    expect(s.errors.join(' ')).not.toContain(k1);
    expect(s.changes).toEqual([]);
  });

  it('a rewrite with the same keys is not a change', () => {
    const s = setUp();
    writeSecrets(s.secretsFile, readSecrets(s.secretsFile)!);
    s.advance(1000);
    expect(s.check(s.first.generatedKey as string)).toBe('ok');
    expect(s.changes).toEqual([]);
  });

  it('VIDPIPE_API_KEY stays fixed: the file is not followed for keys', () => {
    const s = setUp({ VIDPIPE_API_KEY: 'env-key' });
    expect(s.first.generatedKey).toBeUndefined();
    writeSecrets(s.secretsFile, { apiKeys: ['file-key'] });
    s.advance(1000);
    expect(s.check('file-key')).toBe('wrong');
    expect(s.check('env-key')).toBe('ok');
    expect(s.changes).toEqual([]);
  });

  it('with both VIDPIPE_API_KEY and VIDPIPE_BASIC_AUTH nothing is followed', () => {
    expect(resolveAuth({ env: { VIDPIPE_API_KEY: 'k', VIDPIPE_BASIC_AUTH: 'u:p' }, secretsFile: path.join(root, 'none.json'), insecure: false }).config.reload).toBeUndefined();
  });
});
