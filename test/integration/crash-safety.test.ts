/**
 * Crash safety: events stream into a listener CHILD process (the built CLI) that is SIGKILLed mid-stream. After a
 * restart on the same database, every event that got a 2xx is stored exactly once, and the jobs agree with the inbox.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtCliAvailable, spawnListen } from '../helpers/cli.js';
import { EVENTBRIDGE_HEADERS, makeEvent, tempDir, type Body } from '../helpers/listener.js';

const tmp = tempDir('vidpipe-crash-');
afterAll(() => tmp.cleanup());
const KEY = 'crash-test-key';
const headers = { ...EVENTBRIDGE_HEADERS, 'x-api-key': KEY };

async function send(url: string, body: Body): Promise<number | 'error'> {
  try {
    const res = await fetch(`${url}/aws/listener/eventbridge/video`, { method: 'POST', headers, body: JSON.stringify(body) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 'error';
  }
}

describe.runIf(builtCliAvailable())('crash safety', () => {
  it('every 2xx survives a SIGKILL and is stored exactly once', async () => {
    const cwd = tmp.dir;
    const dbPath = path.join(cwd, 'crash.db');
    const env = { VIDPIPE_API_KEY: KEY };
    const events: Body[] = [];
    for (let i = 0; i < 6000; i++) {
      const jobId = `crash-job-${i % 50}`;
      const kinds = ['progressing', 'status-update', 'input-information', 'new-warning', 'complete-file-group'];
      events.push(makeEvent(kinds[i % kinds.length] as string, { jobId, timestamp: 1_700_000_000_000 + i, postId: `crash-post-${i % 50}` }));
    }
    // Redeliveries too: every 10th event is sent twice.
    const stream = events.flatMap((e, i) => (i % 10 === 0 ? [e, e] : [e]));

    const acked = new Set<string>();
    let next = 0;
    // Three crashes, each while 16 requests are in flight, a few hundred events after the last restart.
    for (let round = 1; round <= 3; round++) {
      const listener = await spawnListen(['--db', dbPath], { cwd, env });
      let killed = false;
      const worker = async () => {
        while (next < stream.length && !killed) {
          const body = stream[next++] as Body;
          const status = await send(listener.url, body);
          if (status === 200) acked.add(body.id);
          else if (status !== 'error') throw new Error(`unexpected ${status}`);
          // Kill the moment an answer arrives: the writes it answered for must already be on disk.
          if (acked.size >= 400 * round && !killed) {
            killed = true;
            listener.child.kill('SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      expect((await listener.exited).signal).toBe('SIGKILL');
    }
    expect(next).toBeLessThan(stream.length);

    const second = await spawnListen(['--db', dbPath], { cwd, env });
    // Every acked event is known after the restart: resending it answers duplicate.
    const sample = [...acked].filter((_, i) => i % 7 === 0);
    for (const id of sample) {
      const body = events.find((e) => e.id === id) as Body;
      const res = await fetch(`${second.url}/aws/listener/eventbridge/video`, { method: 'POST', headers, body: JSON.stringify(body) });
      expect(((await res.json()) as { status: string }).status).toBe('duplicate');
    }
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);

    const db = new Database(dbPath, { readonly: true });
    const stored = new Map((db.prepare('SELECT event_id, COUNT(*) AS n FROM inbox GROUP BY event_id').all() as { event_id: string; n: number }[]).map((r) => [r.event_id, r.n]));
    for (const id of acked) expect(stored.get(id), id).toBe(1);
    // The jobs were built in the same transactions as the inbox rows: their event counts match exactly.
    const mismatched = db
      .prepare(
        `SELECT j.job_id, j.event_count, COUNT(i.event_id) AS n FROM jobs j LEFT JOIN inbox i ON i.job_id = j.job_id AND i.outcome = 'processed'
         GROUP BY j.job_id HAVING j.event_count != n`,
      )
      .all();
    expect(mismatched).toEqual([]);
    db.close();
  });
});
