/**
 * The group-commit writer's thread (see batch-writer.ts): its own connection, the same transaction code. It answers
 * each batch only after COMMIT returned, i.e. after the WAL was fsynced.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { openDatabase, WRITER_CACHE_MIB } from './db.js';
import { createBatchCommitter, describeBatchFailure, fromWire, type WriteWorkerData, type WriteWorkerReply, type WriteWorkerRequest } from './sqlite-committer.js';
import { createQueries } from './queries.js';

const port = parentPort;
if (!port) throw new Error('write-worker runs as a worker thread');
const data = workerData as WriteWorkerData;
const reply = (msg: WriteWorkerReply) => port.postMessage(msg);

try {
  const db = openDatabase(data.dbPath, { cacheMiB: WRITER_CACHE_MIB });
  const queries = createQueries(db, data.queriesOptions);
  const commit = createBatchCommitter(db, queries);
  // Batches that arrive while one commits wait here and are committed together: one fsync for all of them.
  let pending: Array<Extract<WriteWorkerRequest, { type: 'batch' }>> = [];
  let closing = false;
  const take = (msg: WriteWorkerRequest) => {
    if (msg.type === 'close') closing = true;
    else if (msg.type === 'probe') {
      try {
        queries.probeWrite(msg.now);
        reply({ id: msg.id, probed: true });
      } catch (err) {
        reply({ id: msg.id, failure: describeBatchFailure(err) });
      }
    } else pending.push(msg);
  };
  const commitPending = () => {
    // Everything posted up to now joins this transaction, also what is still queued behind the message that woke us.
    // (Waiting a little longer after a commit for the clients it answered to send their next request — to put more
    // events behind one fsync — was measured at 20 connections: 9.6 → 15 events per commit, but 4,300 → 3,850
    // events/s: on 2 shared cores the wait costs more than the fsyncs it saves.)
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) take(m.message as WriteWorkerRequest);
    const batches = pending;
    pending = [];
    if (batches.length) {
      try {
        const outcomes = commit(
          batches.flatMap((b) => b.events.map(fromWire)),
          (batches.at(-1) as { now: number }).now,
        );
        let at = 0;
        for (const b of batches) {
          reply({ id: b.id, outcomes: outcomes.slice(at, at + b.events.length) });
          at += b.events.length;
        }
      } catch (err) {
        for (const b of batches) reply({ id: b.id, failure: describeBatchFailure(err) });
      }
    }
    if (closing) {
      db.close();
      port.close();
    }
  };
  port.on('message', (msg: WriteWorkerRequest) => {
    take(msg);
    // After the messages already received: the whole backlog goes into one transaction.
    if (pending.length === 1 || closing) setImmediate(commitPending);
  });
  reply({ type: 'ready' });
} catch (err) {
  reply({ type: 'open-failed', failure: describeBatchFailure(err) });
}
