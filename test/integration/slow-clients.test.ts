/**
 * Issue 11 item 8: slow clients. Raw TCP sockets that trickle their headers or body one byte at a time, or sit idle,
 * are closed by the header, request and keep-alive timeouts; connections are bounded. Short configured timeouts keep
 * the tests fast; one test checks the defaults are what the server runs with. Real listener, real sockets.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONNECTION_LIMITS } from '../../src/listener/limits.js';
import { builtCliAvailable, runCli, spawnListen } from '../helpers/cli.js';
import { LISTENER_PATH, TEST_KEY, makeEvent, startTestListener, tableCounts, tempDir } from '../helpers/listener.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Long enough that only a timeout can have closed the socket (a trickler never stops by itself). */
const GIVE_UP_MS = 6_000;

interface Trickle {
  /** Resolves when the server closed the socket (what it sent, and whether we still had bytes to send). */
  closed: Promise<{ received: string; byServer: boolean }>;
  socket: net.Socket;
}

/** Sends `head` at once, then `drip` one byte every `everyMs` (repeating it for ever), until the server closes. */
function trickle(url: string, head: string, drip: string, everyMs = 100): Trickle {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  let received = '';
  let i = 0;
  let timer: NodeJS.Timeout | undefined;
  socket.on('connect', () => {
    socket.write(head);
    timer = setInterval(() => {
      if (!socket.destroyed && socket.writable) socket.write(drip[i++ % drip.length] as string);
    }, everyMs);
  });
  socket.on('data', (d) => (received += d));
  socket.on('error', () => undefined);
  const closed = new Promise<{ received: string; byServer: boolean }>((resolve) => {
    const giveUp = setTimeout(() => {
      clearInterval(timer);
      socket.destroy();
      resolve({ received, byServer: false });
    }, GIVE_UP_MS);
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ received, byServer: true });
    });
  });
  cleanups.push(() => socket.destroy());
  return { closed, socket };
}

const SHORT = { headerTimeoutMs: 600, requestTimeoutMs: 1_200, keepAliveTimeoutMs: 500 };

describe('slow clients', () => {
  it('run with the documented defaults: 5 s headers, 10 s request, 5 s keep-alive, 512 connections', async () => {
    const l = await startTestListener();
    cleanups.push(() => l.cleanup());
    expect(DEFAULT_CONNECTION_LIMITS).toEqual({ headerTimeoutMs: 5_000, requestTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000, maxConnections: 512 });
    const server = l.app.server;
    expect({ headers: server.headersTimeout, request: server.requestTimeout, keepAlive: server.keepAliveTimeout, max: server.maxConnections, idle: server.timeout }).toEqual({
      headers: 5_000,
      request: 10_000,
      keepAlive: 5_000,
      max: 512,
      idle: 10_000,
    });
    // And the deadlines are looked at every second, not every 30 s (Node's default, which let tricklers stay open).
    const checking = Object.getOwnPropertySymbols(server).find((s) => s.description === 'http.server.connectionsCheckingInterval');
    expect(checking && (server as unknown as Record<symbol, { _idleTimeout?: number }>)[checking]?._idleTimeout).toBe(1_000);
  });

  it('closes a connection that trickles its headers one byte at a time (408), and one that sends nothing', async () => {
    const l = await startTestListener({ limits: SHORT });
    cleanups.push(() => l.cleanup());
    const headers = trickle(l.url, `POST ${LISTENER_PATH} HTTP/1.1\r\nHost: x\r\n`, 'X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n');
    const silent = trickle(l.url, '', '', 60_000);
    const [h, s] = await Promise.all([headers.closed, silent.closed]);
    expect(h.byServer).toBe(true);
    expect(h.received).toMatch(/^HTTP\/1\.1 408/);
    expect(s.byServer).toBe(true);
  });

  it('closes a connection that trickles its body one byte at a time, and stores nothing', async () => {
    const l = await startTestListener({ limits: SHORT });
    cleanups.push(() => l.cleanup());
    const before = tableCounts(l.db);
    const body = JSON.stringify(makeEvent('progressing'));
    const head = `POST ${LISTENER_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-api-key: ${TEST_KEY}\r\nContent-Length: ${body.length}\r\n\r\n`;
    const t = trickle(l.url, head, body);
    const r = await t.closed;
    expect(r.byServer).toBe(true);
    expect(r.received).not.toMatch(/^HTTP\/1\.1 200/);
    expect(tableCounts(l.db)).toEqual(before);
  });

  it('closes an idle kept-alive connection after its answer', async () => {
    const l = await startTestListener({ limits: SHORT });
    cleanups.push(() => l.cleanup());
    const t = trickle(l.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n', '', 60_000);
    const r = await t.closed;
    expect(r.byServer).toBe(true);
    expect(r.received).toMatch(/^HTTP\/1\.1 200/);
  });

  it('bounds concurrent connections: one above the bound is closed unanswered, and a freed slot serves again', async () => {
    const l = await startTestListener({ limits: { maxConnections: 2 } });
    cleanups.push(() => l.cleanup());
    const { port } = new URL(l.url);
    const open = () =>
      new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect(Number(port), '127.0.0.1', () => resolve(s));
        s.on('error', reject);
        cleanups.push(() => s.destroy());
      });
    const a = await open();
    await open();
    // Let the server accept both before the third arrives.
    await new Promise((r) => setTimeout(r, 100));
    const third = await open();
    const outcome = await new Promise<string>((resolve) => {
      let got = '';
      third.on('data', (d) => {
        got += d;
        resolve(`answered: ${got.split('\r\n')[0]}`);
      });
      third.on('close', () => resolve('closed unanswered'));
      third.on('error', () => undefined);
      third.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    expect(outcome).toBe('closed unanswered');
    a.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect((await fetch(`${l.url}/healthz`)).status).toBe(200);
  });
});

describe.skipIf(!builtCliAvailable())('vidpipe listen slow-client flags', () => {
  it('--header-timeout and --request-timeout are applied', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const l = await spawnListen(['--header-timeout', '0.5', '--request-timeout', '1', '--keep-alive-timeout', '0.5', '--db', 'v.db'], {
      cwd: t.dir,
      env: { VIDPIPE_API_KEY: TEST_KEY },
    });
    cleanups.push(async () => {
      l.child.kill('SIGTERM');
      await l.exited;
    });
    const r = await trickle(l.url, `POST ${LISTENER_PATH} HTTP/1.1\r\nHost: x\r\n`, 'X-Slow: aaaa\r\n').closed;
    expect(r.byServer).toBe(true);
    expect(r.received).toMatch(/^HTTP\/1\.1 408/);
  });

  it('refuses values that cannot work, naming the flag (exit 2)', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const cases: Array<[string[], RegExp]> = [
      [['--header-timeout', 'soon'], /--header-timeout must be a number of seconds/],
      [['--request-timeout', '0'], /--request-timeout must be from 0\.1 to 3600 seconds/],
      [['--header-timeout', '8', '--request-timeout', '4'], /--header-timeout \(8 s\) must not be longer than --request-timeout \(4 s\)/],
      [['--max-connections', '0'], /--max-connections must be a whole number from 1 to 65535/],
    ];
    for (const [args, message] of cases) {
      const res = await runCli(['listen', '--port', '0', '--insecure-no-auth', ...args], { cwd: t.dir, timeoutMs: 20_000 });
      expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(2);
      expect(res.stderr).toMatch(message);
    }
  });
});
