/**
 * The live view of `vidpipe listen`: on a terminal (a real pseudo-terminal, through `script`) one line per event and no
 * raw log JSON; with --json one JSON object per event on stdout (NDJSON), forward results included.
 */
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, builtCliAvailable, spawnListen } from '../helpers/cli.js';
import { startFakeApp } from '../helpers/fake-app.js';
import { waitFor } from '../helpers/fake-slack.js';
import { EVENTBRIDGE_HEADERS, makeEvent, tempDir } from '../helpers/listener.js';

const tmp = tempDir('vidpipe-live-');
afterAll(() => tmp.cleanup());
const KEY = 'live-key';

async function send(url: string, body: unknown) {
  const res = await fetch(`${url}/aws/listener/eventbridge/video`, { method: 'POST', headers: { ...EVENTBRIDGE_HEADERS, 'x-api-key': KEY }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
}

describe.runIf(builtCliAvailable())('listen: the live view', () => {
  it('on a terminal: one coloured line per event (status, post, progress or outputs), no raw log JSON', async () => {
    // `script` runs the listener on a pseudo-terminal, as a developer's shell would.
    const child = spawn('script', ['-qfec', `${process.execPath} ${BIN} listen --port 0 --db live.db`, '/dev/null'], {
      cwd: tmp.dir,
      env: { ...process.env, VIDPIPE_API_KEY: KEY, FORCE_COLOR: '1', TERM: 'xterm' },
    });
    let screen = '';
    child.stdout.on('data', (c) => (screen += c));
    const plain = () => screen.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');
    try {
      await waitFor(() => /Ctrl-C to stop/.test(plain()), 20_000, 'start-up');
      expect(plain()).toContain('test it: vidpipe simulate-complete --sequence --post 42');
      const url = /listening on (http:\/\/[^\s/]+)/.exec(plain())?.[1] as string;
      await send(url, makeEvent('status-update', { jobId: '1671476818694-live01', postId: '42', timestamp: 1_700_000_000_000 }));
      await send(url, makeEvent('complete-hls-group', { jobId: '1671476818694-live01', postId: '42', timestamp: 1_700_000_000_100 }));
      await waitFor(() => /COMPLETE/.test(plain()), 10_000, 'the COMPLETE line');
      const lines = plain().split('\n');
      const update = lines.find((l) => l.includes('STATUS_UPDATE')) as string;
      expect(update).toMatch(/^\d\d:\d\d:\d\d {2}job …8694-live01 {2}STATUS_UPDATE +post 42 +\d+%/);
      expect(lines.find((l) => l.includes('COMPLETE'))).toMatch(/COMPLETE +post 42 +\d+ outputs/);
      expect(screen).toMatch(/\x1b\[32mCOMPLETE/); // green
      expect(plain()).not.toContain('"level"');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    }
  });

  it('with --json: NDJSON on stdout, one object per event and per forward; logs stay off stdout', async () => {
    const app = await startFakeApp([{ status: 503 }]);
    try {
      const l = await spawnListen(['--db', 'live-json.db', '--json', '--forward-to', app.url], { cwd: tmp.dir, env: { VIDPIPE_API_KEY: KEY } });
      const body = makeEvent('error', { jobId: 'live-json', postId: '9' });
      await send(l.url, body);
      await send(l.url, body);
      await waitFor(() => l.stdout().split('\n').filter((x) => x.includes('"forward"')).length >= 2, 15_000, 'two forward lines');
      l.child.kill('SIGTERM');
      await l.exited;
      const objects = l.stdout().trim().split('\n').map((line) => JSON.parse(line));
      // Events in the order they were ingested; a forward line may come between them (it is asynchronous).
      const events = objects.filter((o) => o.type === 'event');
      expect(events[0]).toMatchObject({ type: 'event', via: 'http', eventId: body.id, jobId: 'live-json', status: 'ERROR', postId: '9', outcome: 'processed' });
      // A redelivery is answered from its id; the live view still shows what it carries.
      expect(events[1]).toMatchObject({ type: 'event', eventId: body.id, jobId: 'live-json', status: 'ERROR', postId: '9', outcome: 'duplicate' });
      const forwards = objects.filter((o) => o.type === 'forward');
      expect(forwards[0]).toMatchObject({ eventId: body.id, httpStatus: 503, state: 'retry' });
      expect(forwards.at(-1)).toMatchObject({ eventId: body.id, httpStatus: 200, state: 'sent' });
      expect(objects.every((o) => o.type === 'event' || o.type === 'forward')).toBe(true);
    } finally {
      await app.close();
    }
  });
});
