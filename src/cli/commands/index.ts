/**
 * Every verb, in the order `vidpipe --help` lists them: its one-line summary (the root help's list and the verb's own
 * description) and how to load it. A run imports only the module of the verb it runs; the root help lists these
 * summaries without importing any verb (program.ts). Each verb module registers its options and imports its service
 * lazily inside the action.
 *
 * Why: every ES module costs Node 20 ~0.5–1 ms to resolve, read, compile and link, and the 13 verb modules pulled in
 * ~35 modules in all: `vidpipe --help` took 1.74–2.0× `node -e 0` (bench, startup part); issue 17 asks ≤ 1.5×.
 */
import type { Command } from 'commander';
import { DEFAULT_LISTENER_PATH } from '../../config/listener-path.js';

export interface Verb {
  name: string;
  summary: string;
  /** The verb's usage in the root help's list, as commander writes it for the registered verb (termOf: by default
   * `<name> [options]`). */
  term?: string;
  load(): Promise<(program: Command) => void>;
}

export const VERBS: readonly Verb[] = [
  { name: 'init', summary: 'write vidpipe.config.json (asks on a terminal; every value is also a flag)', load: async () => (await import('./init.js')).registerInit },
  {
    name: 'setup',
    summary: 'create or repair the AWS pipeline (buckets, job role, templates, rule, connection, API destination or SQS event queue, target, DLQ, policy, alarms, upload trigger)',
    load: async () => (await import('./setup.js')).registerSetup,
  },
  { name: 'status', summary: 'show whether every AWS resource is in place (exit 4 when something is missing or drifted)', load: async () => (await import('./status.js')).registerStatus },
  { name: 'teardown', summary: 'delete the AWS resources setup created (buckets are kept unless --delete-buckets)', load: async () => (await import('./teardown.js')).registerTeardown },
  { name: 'policy', summary: 'print the least-privilege IAM policy an operator needs to run vidpipe day to day', load: async () => (await import('./policy.js')).registerPolicy },
  {
    name: 'upload',
    term: 'upload [options] <file...>',
    summary: 'upload video files to the input bucket (multipart, with progress); optionally start and follow the MediaConvert job',
    load: async () => (await import('./upload.js')).registerUpload,
  },
  { name: 'listen', summary: `run the endpoint EventBridge posts MediaConvert events to (POST ${DEFAULT_LISTENER_PATH})`, load: async () => (await import('./listen.js')).registerListen },
  {
    name: 'notifications',
    summary: "list the listener's Slack notifications (pending, sent, failed, skipped); `notifications retry` sends failed ones again",
    load: async () => (await import('./notifications.js')).registerNotifications,
  },
  {
    name: 'simulate-complete',
    summary: 'send a MediaConvert "Job State Change" event (COMPLETE by default) to the listener, as EventBridge would',
    load: async () => (await import('./simulate-complete.js')).registerSimulateComplete,
  },
  {
    name: 'doctor',
    summary: 'check every hop an event travels (S3 → Lambda → MediaConvert → rule → API destination → listener): exit 0 ok, 4 a hop broken, 3 credentials/permissions',
    load: async () => (await import('./doctor.js')).registerDoctor,
  },
  { name: 'dlq', term: 'dlq', summary: 'the dead-letter queue: events EventBridge could not deliver (list, show, redrive)', load: async () => (await import('./dlq.js')).registerDlq },
  {
    name: 'replay',
    summary: 'replay archived MediaConvert events to the rule (--since 2h [--until 30m]), or list recent replays (--status)',
    load: async () => (await import('./replay.js')).registerReplay,
  },
  {
    name: 'local',
    summary: 'run the whole pipeline on this machine, no AWS: listener + a local MediaConvert that transcodes with ffmpeg + storage',
    load: async () => (await import('./local.js')).registerLocal,
  },
];

/** How the root help lists a verb without registering it. */
export function termOf(verb: Verb): string {
  return verb.term ?? `${verb.name} [options]`;
}

/** A verb's summary, for its module's `.description()`. */
export function summaryOf(name: string): string {
  const verb = VERBS.find((v) => v.name === name);
  if (!verb) throw new Error(`no verb ${name}`);
  return verb.summary;
}

/** Registers every verb in full (buildProgram() without a command line: the tests). */
export async function registerCommands(program: Command): Promise<void> {
  for (const register of await Promise.all(VERBS.map((v) => v.load()))) register(program);
}
