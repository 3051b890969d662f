/** A local HTTP server playing a Slack incoming webhook (aws-facts.md §6): scripted answers, recorded requests. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackRequest {
  at: number;
  body: any;
  headers: IncomingMessage['headers'];
}

export type SlackAnswer = { status: number; body: string; headers?: Record<string, string> } | 'hang';

export const SLACK_OK: SlackAnswer = { status: 200, body: 'ok' };

export async function startFakeSlack(script: SlackAnswer[] = [], fallback: SlackAnswer = SLACK_OK) {
  let otherwise = fallback;
  const requests: SlackRequest[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      requests.push({ at: Date.now(), body: JSON.parse(data || 'null'), headers: req.headers });
      const answer = script.shift() ?? otherwise;
      if (answer === 'hang') {
        hanging.push(res);
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    // The path stands in for Slack's secret: it must never show up in logs or the database.
    url: `http://127.0.0.1:${port}/services/T000/B000/SECRETxWEBHOOKxPATH`,
    requests,
    /** What every request gets from now on (after the script): Slack going down, or coming back. */
    answerWith(answer: SlackAnswer) {
      otherwise = answer;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
