/**
 * A real browser for the dashboard suites: Debian's Chromium (`chromium` package, /usr/bin/chromium) driven by
 * playwright-core through its executablePath — no browser download. Without Chromium the suite skips with the install
 * hint; under CI (CI=true) a missing Chromium fails instead (.ci/run installs it).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_HINT = 'Chromium not found (set CHROMIUM_PATH or install it): apt-get update && apt-get install -y chromium';

/** Flags for a quiet, reproducible headless run in a container (no sandbox: tests run as root there). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];

export const ARTIFACTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');

export function findChromium(): string | undefined {
  const explicit = process.env.CHROMIUM_PATH;
  if (explicit) return existsSync(explicit) ? explicit : undefined;
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) if (existsSync(candidate)) return candidate;
  const which = spawnSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' });
  const found = which.stdout.trim();
  return which.status === 0 && found ? found : undefined;
}

/** true when the browser suites can run; false (with a notice) when they must skip; throws under CI. */
export function chromiumAvailable(): boolean {
  if (findChromium()) return true;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI: ${CHROMIUM_HINT}`);
  console.warn(`[skip] ${CHROMIUM_HINT}`);
  return false;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: findChromium() as string, headless: true, args: CHROMIUM_ARGS });
}

/** A fresh context (its own cookies) and page; page errors are collected so a test can assert there were none. */
export async function openPage(browser: Browser, options: { width?: number; height?: number } = {}): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: options.height ?? 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return { context, page, errors };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, name);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
