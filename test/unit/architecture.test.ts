/**
 * The listener's shape, checked on the source: the core knows neither HTTP nor a database engine, and only a store
 * adapter imports a database driver (issue 10's "done when"). A new import that breaks this fails here.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => (m[1] ?? m[2]) as string);
}

describe('architecture', () => {
  it('src/listener/core imports neither fastify, nor a database driver, nor a store adapter', () => {
    const core = files(path.join(root, 'src', 'listener', 'core'));
    expect(core.length).toBeGreaterThan(3);
    for (const f of core)
      for (const i of imports(f)) {
        expect(i, `${path.relative(root, f)} imports ${i}`).not.toMatch(/^(fastify|@fastify\/|better-sqlite3|pg|pg-)/);
        expect(i, `${path.relative(root, f)} imports ${i}`).not.toMatch(/store\/|\/http\/|\/notify\/|\/pull\//);
      }
  });

  it('only the store adapters import better-sqlite3 or pg', () => {
    for (const f of files(path.join(root, 'src'))) {
      const rel = path.relative(root, f);
      const drivers = imports(f).filter((i) => i === 'better-sqlite3' || i === 'pg');
      if (drivers.includes('better-sqlite3')) expect(rel, `${rel} imports better-sqlite3`).toMatch(/^src\/store\/sqlite\//);
      if (drivers.includes('pg')) expect(rel, `${rel} imports pg`).toMatch(/^src\/store\/postgres\//);
    }
  });

  it('the HTTP app receives the store port, not an adapter', () => {
    for (const f of files(path.join(root, 'src', 'listener', 'http'))) for (const i of imports(f)) expect(i, path.relative(root, f)).not.toMatch(/store\//);
  });
});
