import { describe, expect, it } from 'vitest';
import { motoAvailable, parseRecording, startMoto } from '../helpers/moto.js';

describe('moto recording parser', () => {
  const record = (target: string, body: string) =>
    JSON.stringify({ headers: { 'X-Amz-Target': target, Host: '127.0.0.1:1' }, method: 'POST', url: 'http://127.0.0.1:1/', body, body_encoded: false }).replace(/":/g, '": ');

  it('reads records that concurrent requests wrote onto one line, even with `}{` inside a body', () => {
    const big = record('AWSEvents.PutEvents', JSON.stringify({ Entries: [{ Detail: '}{"headers": x'.repeat(800) }] }));
    const small = record('AWSEvents.PutEvents', '{}');
    // What moto leaves when a second request's record lands between a >8 KiB record and its newline.
    const text = `${record('AWSSecurityTokenServiceV20110615.GetCallerIdentity', '')}\n${big}${small}\n\n${small}\n`;
    expect(parseRecording(text).map((r) => r.target)).toEqual([
      'AWSSecurityTokenServiceV20110615.GetCallerIdentity',
      'AWSEvents.PutEvents',
      'AWSEvents.PutEvents',
      'AWSEvents.PutEvents',
    ]);
  });
});

describe.runIf(motoAvailable())('moto helper', () => {
  it('starts moto on a free port and records requests', async () => {
    const moto = await startMoto({ record: true });
    try {
      const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
      const sts = new STSClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      const id = await sts.send(new GetCallerIdentityCommand({}));
      expect(id.Account).toBe('123456789012');
      const recorded = moto.recordedRequests();
      expect(recorded.length).toBeGreaterThan(0);
      sts.destroy();
    } finally {
      await moto.stop();
    }
  });
});
