import { describe, expect, it } from 'vitest';
import { appNameFrom, buildInitConfig } from '../../src/config/init.js';

// Without a terminal (and with --yes) nothing is asked: these run without stdin.
const noTty = { yes: false, interactive: false };

describe('vidpipe init: building the config', () => {
  it('uses defaults derived from the folder name, and the environment region', async () => {
    const config = await buildInitConfig({}, noTty, '/home/me/My Video Site', { AWS_REGION: 'eu-west-3' });
    expect(config).toMatchObject({
      app: 'my-video-site',
      region: 'eu-west-3',
      inputBucket: 'my-video-site-input',
      outputBucket: 'my-video-site-output',
      listener: { auth: 'API_KEY', authHeader: 'x-api-key' },
      templates: ['mp4', 'hls', 'thumbnails'],
      statuses: ['COMPLETE', 'ERROR'],
      deadLetterQueue: true,
      allowSimulatorSource: false,
    });
    expect(config.listener.url).toBeUndefined();
  });

  it('--yes keeps the defaults of yes/no questions (the simulator source stays off)', async () => {
    const config = await buildInitConfig({ app: 'demo' }, { yes: true, interactive: true }, '/x', {});
    expect(config.allowSimulatorSource).toBe(false);
  });

  it('takes every value from flags', async () => {
    const config = await buildInitConfig(
      {
        app: 'shop',
        region: 'us-west-2',
        inputBucket: 'in-b',
        outputBucket: 'out-b',
        listenerUrl: 'https://h.example/hook',
        auth: 'BASIC',
        authHeader: 'x-key',
        templates: 'mp4, hls',
        statuses: 'COMPLETE,ERROR,PROGRESSING,STATUS_UPDATE',
        trigger: 'none',
        rateLimit: 50,
        maxRetries: 3,
        maxEventAge: 600,
        dlq: false,
        allowSimulatorSource: true,
        simulatorSource: 'shop.sim',
        alarmEmail: 'a@b.example',
      },
      noTty,
      '/x',
      {},
    );
    expect(config).toEqual({
      app: 'shop',
      region: 'us-west-2',
      inputBucket: 'in-b',
      outputBucket: 'out-b',
      listener: { url: 'https://h.example/hook', auth: 'BASIC', authHeader: 'x-key' },
      templates: ['mp4', 'hls'],
      statuses: ['COMPLETE', 'ERROR', 'PROGRESSING', 'STATUS_UPDATE'],
      trigger: 'none',
      rateLimitPerSecond: 50,
      retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 600 },
      deadLetterQueue: false,
      allowSimulatorSource: true,
      simulatorSource: 'shop.sim',
      alarmEmail: 'a@b.example',
    });
  });

  it('names the bad field or flag', async () => {
    await expect(buildInitConfig({ templates: 'mp4,dash' }, noTty, '/x', {})).rejects.toThrow(/--templates templates: unknown dash/);
    await expect(buildInitConfig({ statuses: 'DONE' }, noTty, '/x', {})).rejects.toThrow(/--statuses statuses: unknown DONE/);
    await expect(buildInitConfig({ app: 'Bad_Name' }, noTty, '/x', {})).rejects.toThrow(/app: must be 3-32 lower-case letters, digits or hyphens, starting with a letter .*, got "Bad_Name"/);
    await expect(buildInitConfig({ app: 'ok-app', region: 'nowhere-1' }, noTty, '/x', {})).rejects.toThrow(/region: must be an AWS region name such as us-east-1, got "nowhere-1"/);
    await expect(buildInitConfig({ app: 'ok-app', inputBucket: 'UPPER' }, noTty, '/x', {})).rejects.toMatchObject({ code: 'CONFIG_INVALID', exitCode: 2 });
    await expect(buildInitConfig({ app: 'ok-app', simulatorSource: 'aws.fake' }, noTty, '/x', {})).rejects.toThrow(/simulatorSource/);
  });

  it('derives a valid app name from any folder', () => {
    expect(appNameFrom('My_Project 2')).toBe('my-project-2');
    expect(appNameFrom('123')).toBe('vidpipe');
    expect(appNameFrom('x'.repeat(40))).toHaveLength(32);
  });
});
