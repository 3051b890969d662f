/**
 * Install friction (issue 12, item 14): every package the lock file installs must accept the oldest Node vidpipe
 * supports (package.json "engines"), or `npm install` prints an EBADENGINE warning. cookie@2 (through fastify's
 * light-my-request ≥ 6.8) wants Node ≥ 22; package.json overrides light-my-request to a release on cookie@1.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[]; optional?: boolean; dev?: boolean }>;
};

type Entry = [string, { version?: string; engines?: { node?: string } | string[]; dev?: boolean }];
const nodeRange = ([, p]: Entry) => (p.engines && !Array.isArray(p.engines) ? p.engines.node : undefined);
const refusing = (version: string, entries: Entry[]) =>
  entries
    .filter((e) => e[0] !== '' && nodeRange(e) !== undefined && !semver.satisfies(version, nodeRange(e)!))
    .map((e) => `${e[0].replace(/^.*node_modules\//, '')}@${e[1].version} wants node ${nodeRange(e)}`);

describe('package-lock.json engines', () => {
  it('every runtime dependency supports the oldest Node in package.json engines', () => {
    const oldest = semver.minVersion(pkg.engines.node)!.version;
    expect(refusing(oldest, Object.entries(lock.packages).filter(([, p]) => !p.dev))).toEqual([]);
  });
  it('npm install on this Node prints no EBADENGINE warning (every package, dev ones too)', () => {
    expect(refusing(process.versions.node, Object.entries(lock.packages))).toEqual([]);
  });
});
