import { describe, expect, it } from 'vitest';
import { motoAvailable, startMoto } from '../helpers/moto.js';

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
