/**
 * The PostgreSQL store under the same load as the SQLite part: one `vidpipe listen --database postgres://…` instance,
 * then two instances on one database sharing the connections (as behind a load balancer), beside bare fastify in the
 * same run. Each instance is a child process; autocannon runs here. Every 2xx is committed (synchronous_commit on).
 * The server is the one in VIDPIPE_BENCH_DATABASE_URL, VIDPIPE_TEST_DATABASE_URL or .ci/run's test database; each run
 * uses a schema of its own, dropped after.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { CLI, round } from './lib.js';
import { API_KEY, collectEventId, completeBodyFactory, HEADERS, PATH, spawnServer, startBare, type Server } from './listener.js';
import { runLoad, type LoadFigures } from './load.js';
import { DEFAULT_TEST_DATABASE_URL } from '../test/helpers/postgres.js';

export interface PostgresBenchResult {
  connections: number;
  bare: LoadFigures;
  one: LoadFigures & { ratioToBare: number; storedExactlyOnce: boolean };
  two: { reqPerSec: number; p99: number; non2xx: number; ratioToBare: number; storedExactlyOnce: boolean };
}

function startListener(database: string): Promise<Server> {
  return spawnServer([CLI, 'listen', '--host', '127.0.0.1'], { VIDPIPE_API_KEY: API_KEY, SLACK_WEBHOOK_URL: '', VIDPIPE_DATABASE_URL: database }, (port) => `http://127.0.0.1:${port}/readyz`);
}

export async function benchPostgres(options: { events?: number; connections?: number; bareSeconds?: number } = {}): Promise<PostgresBenchResult | { skipped: string }> {
  const url = process.env.VIDPIPE_BENCH_DATABASE_URL || process.env.VIDPIPE_TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL;
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await admin.query('SELECT 1');
  } catch (err) {
    await admin.end();
    return { skipped: `PostgreSQL not reachable (${(err as Error).message}): start it as .ci/run does, or set VIDPIPE_BENCH_DATABASE_URL` };
  }
  const events = options.events ?? 20_000;
  const connections = options.connections ?? 20;
  const schemas: string[] = [];
  const fresh = () => {
    const schema = `bench_${randomBytes(4).toString('hex')}`;
    schemas.push(schema);
    const u = new URL(url);
    u.searchParams.set('schema', schema);
    return { schema, url: u.toString() };
  };
  const storedOnce = async (schema: string, acked: Set<string>) => {
    const rows = (await admin.query<{ event_id: string }>(`SELECT event_id FROM "${schema}".inbox`)).rows.map((r) => r.event_id);
    const stored = new Set(rows);
    return stored.size === rows.length && [...acked].every((id) => stored.has(id));
  };

  try {
    const bare = await startBare();
    let bareFigures: LoadFigures;
    try {
      await runLoad({ url: `${bare.url}${PATH}`, connections, durationSec: 2, headers: HEADERS, body: completeBodyFactory('pgwarm') });
      bareFigures = await runLoad({ url: `${bare.url}${PATH}`, connections, durationSec: options.bareSeconds ?? 10, headers: HEADERS, body: completeBodyFactory('pgbare') });
    } finally {
      await bare.stop();
    }

    const single = fresh();
    const one = await startListener(single.url);
    const ackedOne = new Set<string>();
    let oneFigures: LoadFigures;
    try {
      oneFigures = await runLoad({ url: `${one.url}${PATH}`, connections, amount: events, headers: HEADERS, body: completeBodyFactory('pg1'), onAck: collectEventId(ackedOne) });
    } finally {
      await one.stop();
    }

    const shared = fresh();
    const a = await startListener(shared.url);
    const b = await startListener(shared.url);
    const ackedTwo = new Set<string>();
    let parts: LoadFigures[];
    const started = performance.now();
    try {
      const body = completeBodyFactory('pg2');
      // Two halves of one numbering: distinct ids and jobs, half the connections to each instance.
      parts = await Promise.all(
        [a, b].map((s, i) =>
          runLoad({ url: `${s.url}${PATH}`, connections: connections / 2, amount: events / 2, headers: HEADERS, body: (n) => body(n * 2 + i), onAck: collectEventId(ackedTwo) }),
        ),
      );
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    const seconds = Math.max(...parts.map((p) => p.durationSec)) || (performance.now() - started) / 1000;
    const twoRate = round(parts.reduce((sum, p) => sum + p.requests - p.non2xx, 0) / seconds, 0);
    return {
      connections,
      bare: bareFigures,
      one: { ...oneFigures, ratioToBare: round(oneFigures.reqPerSec / bareFigures.reqPerSec, 3), storedExactlyOnce: await storedOnce(single.schema, ackedOne) },
      two: {
        reqPerSec: twoRate,
        p99: Math.max(...parts.map((p) => p.p99)),
        non2xx: parts.reduce((sum, p) => sum + p.non2xx, 0),
        ratioToBare: round(twoRate / bareFigures.reqPerSec, 3),
        storedExactlyOnce: await storedOnce(shared.schema, ackedTwo),
      },
    };
  } finally {
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`).catch(() => undefined);
    await admin.end();
  }
}
