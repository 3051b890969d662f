/**
 * PutEvents' failure reporting, with aws-sdk-client-mock: moto accepts `aws.*` sources that AWS refuses
 * (moto-notes.md), so AWS's answer — 200 with FailedEntryCount and NotAuthorizedForSourceException — is mocked here.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RemoteRejectedError, UsageError } from '../../src/errors.js';
import { putEventsBatched } from '../../src/simulate/eventbridge.js';
import { simulate, type SimulateOptions } from '../../src/simulate/simulate.js';
import { seededBuildEnv } from '../helpers/build-env.js';

const eventbridge = mockClient(EventBridgeClient);
const sts = mockClient(STSClient);

function options(overrides: Partial<SimulateOptions> = {}): SimulateOptions {
  return {
    status: 'COMPLETE',
    sequence: false,
    duplicate: false,
    shuffle: false,
    count: 1,
    concurrency: 1,
    print: false,
    via: 'eventbridge',
    aws: { region: 'eu-west-1' },
    configPath: path.join(mkdtempSync(path.join(tmpdir(), 'vidpipe-sim-')), 'vidpipe.config.json'),
    ...overrides,
  };
}

beforeEach(() => {
  sts.on(GetCallerIdentityCommand).resolves({ Account: '210987654321' });
});
afterEach(() => {
  eventbridge.reset();
  sts.reset();
});

describe('--via eventbridge (mocked AWS answers)', () => {
  it('reports every failed entry with its ErrorCode and ErrorMessage (exit 5)', async () => {
    eventbridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' }],
    });
    const err = await simulate(options({ jobId: 'job-1' }), { env: seededBuildEnv() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteRejectedError);
    const e = err as RemoteRejectedError;
    expect(e.exitCode).toBe(5);
    expect(e.message).toContain('entry 1 (COMPLETE of job job-1): NotAuthorizedForSourceException: Not authorized for the source.');
    expect(e.hint).toMatch(/reserved for AWS services/);
  });

  it('a partly failed batch names only the failed entries and counts the accepted ones', async () => {
    eventbridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 1,
      Entries: input.Entries.map((_, i) => (i === 2 ? { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' } : { EventId: `ev-${i}` })),
    }));
    const err = (await simulate(options({ sequence: true }), { env: seededBuildEnv() }).catch((e: unknown) => e)) as RemoteRejectedError;
    expect(err.message).toMatch(/PutEvents failed 1 of 7 entries:\n {2}entry 3 \(STATUS_UPDATE of job \d{13}-[a-z0-9]{6}\): MalformedDetail: Detail is malformed\./);
    expect(err.details).toMatchObject({ accepted: 6 });
    // Not a retryable code: one call.
    expect(eventbridge.commandCalls(PutEventsCommand)).toHaveLength(1);
  });

  it('retries only the throttled entries, then succeeds', async () => {
    let call = 0;
    eventbridge.on(PutEventsCommand).callsFake((input: { Entries: { Detail: string }[] }) => {
      call++;
      return {
        FailedEntryCount: call === 1 ? 2 : 0,
        Entries: input.Entries.map((e, i) => (call === 1 && i < 2 ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' } : { EventId: `${call}-${JSON.parse(e.Detail).status}-${i}` })),
      };
    });
    const result = await simulate(options({ sequence: true }), { env: seededBuildEnv() });
    const calls = eventbridge.commandCalls(PutEventsCommand);
    expect(calls.map((c) => c.args[0].input.Entries!.length)).toEqual([7, 2]);
    if (result.mode !== 'eventbridge') throw new Error('unexpected');
    expect(result.entries.map((e) => e.eventId)).toEqual(['2-PROGRESSING-0', '2-STATUS_UPDATE-1', '1-STATUS_UPDATE-2', '1-STATUS_UPDATE-3', '1-STATUS_UPDATE-4', '1-COMPLETE-5', '1-INPUT_INFORMATION-6']);
    expect(result.calls).toBe(2);
  });

  it('gives up on an entry still throttled after 4 attempts', async () => {
    eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }] });
    const err = (await simulate(options(), { env: seededBuildEnv() }).catch((e: unknown) => e)) as RemoteRejectedError;
    expect(err.message).toMatch(/entry 1 \(COMPLETE of job .*\): ThrottlingException: Rate exceeded/);
    expect(err.hint).toMatch(/retried 3 times/);
    expect(eventbridge.commandCalls(PutEventsCommand)).toHaveLength(4);
  });

  it('sends ≤ 10 entries per call with the custom source, the detail JSON and the real account', async () => {
    eventbridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({ FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `id-${i}` })) }));
    const result = await simulate(options({ count: 25, concurrency: 3 }), { env: seededBuildEnv() });
    const calls = eventbridge.commandCalls(PutEventsCommand);
    expect(calls.map((c) => c.args[0].input.Entries!.length).sort()).toEqual([10, 10, 5]);
    const entry = calls[0]!.args[0].input.Entries![0]!;
    expect(entry).toMatchObject({ Source: 'vidpipe.simulator', DetailType: 'MediaConvert Job State Change' });
    const detail = JSON.parse(entry.Detail!);
    expect(detail).toMatchObject({ status: 'COMPLETE', accountId: '210987654321', queue: 'arn:aws:mediaconvert:eu-west-1:210987654321:queues/Default' });
    expect(entry.Resources).toEqual([`arn:aws:mediaconvert:eu-west-1:210987654321:jobs/${detail.jobId}`]);
    expect(entry.Time).toEqual(new Date(detail.timestamp));
    expect(result).toMatchObject({ mode: 'eventbridge', calls: 3, source: 'vidpipe.simulator' });
    if (result.mode !== 'eventbridge') throw new Error('unexpected');
    expect(result.entries).toHaveLength(25);
    expect(result.entries.every((e) => /^id-\d$/.test(e.eventId))).toBe(true);
    expect(result.warnings[0]).toMatch(/allowSimulatorSource/);
  });

  it('refuses an aws.* source before calling AWS', async () => {
    const err = await simulate(options({ source: 'aws.mediaconvert' }), { env: seededBuildEnv() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toMatch(/reserved for AWS services.*NotAuthorizedForSourceException/);
    expect(eventbridge.calls()).toHaveLength(0);
    expect(sts.calls()).toHaveLength(0);
  });

  it('an entry missing from the answer is a failure', async () => {
    eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [] });
    const printed = await simulate({ ...options(), print: true }, { env: seededBuildEnv() });
    if (printed.mode !== 'print' || Array.isArray(printed.document)) throw new Error('expected one printed event');
    const outcome = await putEventsBatched(new EventBridgeClient({ region: 'eu-west-1' }), [printed.document], 'vidpipe.simulator');
    expect(outcome.failures).toHaveLength(1);
    expect(outcome.failures[0]).toMatchObject({ errorCode: 'Unknown', errorMessage: 'missing from the answer (FailedEntryCount 1)' });
  });
});
