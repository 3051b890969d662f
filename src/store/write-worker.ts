/**
 * The group-commit writer's thread (see batch-writer.ts): its own connection, the same transaction code. It answers
 * each batch only after COMMIT returned, i.e. after the WAL was fsynced.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './db.js';
import { createBatchCommitter, describeBatchFailure, type WriteWorkerData, type WriteWorkerReply, type WriteWorkerRequest } from './batch-writer.js';
import { createStore } from './store.js';

const port = parentPort;
if (!port) throw new Error('write-worker runs as a worker thread');
const data = workerData as WriteWorkerData;
const reply = (msg: WriteWorkerReply) => port.postMessage(msg);

try {
  const db = openDatabase(data.dbPath);
  const commit = createBatchCommitter(db, createStore(db, data.storeOptions));
  port.on('message', (msg: WriteWorkerRequest) => {
    if (msg.type === 'close') {
      db.close();
      port.close();
      return;
    }
    try {
      reply({ id: msg.id, outcomes: commit(msg.events, msg.now) });
    } catch (err) {
      reply({ id: msg.id, failure: describeBatchFailure(err) });
    }
  });
  reply({ type: 'ready' });
} catch (err) {
  reply({ type: 'open-failed', failure: describeBatchFailure(err) });
}
