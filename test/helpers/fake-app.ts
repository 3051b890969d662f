/**
 * A real local HTTP server playing the user's own app for `listen --forward-to`: records every request (raw body and
 * headers), answers from a script then a default, can hang (a timeout), and can go down (connections refused) and come
 * back on the same port.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AppRequest {
  at: number;
  body: string;
  headers: IncomingMessage['headers'];
}

export type AppAnswer = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

export async function startFakeApp(script: AppAnswer[] = [], fallback: AppAnswer = { status: 200, body: '{"ok":true}' }) {
  const requests: AppRequest[] = [];
  const hanging: ServerResponse[] = [];
  let otherwise = fallback;
  const server = createServer((req, res) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      requests.push({ at: Date.now(), body: data, headers: req.headers });
      const answer = script.shift() ?? otherwise;
      if (answer === 'hang') {
        hanging.push(res);
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/aws/listener/eventbridge/video`,
    requests,
    answerWith(answer: AppAnswer) {
      otherwise = answer;
    },
    /** Stops listening: connections are refused until up(). */
    async down() {
      for (const res of hanging.splice(0)) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async up() {
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    async close() {
      for (const res of hanging.splice(0)) res.destroy();
      server.closeAllConnections();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
