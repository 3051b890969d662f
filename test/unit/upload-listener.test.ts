/** Where `upload --wait` reads job state (issue 12, items 8 and 9): the local listener unless asked; credentials named, never shown. */
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { formatElapsed, listenerSourceFor } from '../../src/upload/upload-service.js';

const config = { ...defaultConfig('demo'), listener: { url: 'https://video.example.com/aws/listener/eventbridge/video', auth: 'API_KEY' as const, authHeader: 'x-vidpipe-key' } };

describe('listenerSourceFor', () => {
  it('defaults to the listener on this machine even when a public URL is configured', () => {
    const source = listenerSourceFor(config, { configPath: '/nowhere/vidpipe.config.json', env: { VIDPIPE_API_KEY: 'vp_k1' } });
    expect(source.baseUrl).toBe('http://127.0.0.1:3000');
    expect(source.headers).toEqual({ 'x-vidpipe-key': 'vp_k1' });
    expect(source.credentials).toBe('the API key from VIDPIPE_API_KEY (header x-vidpipe-key)');
  });
  it('goes to the public URL only with --public-listener, or to --listener-url', () => {
    expect(listenerSourceFor(config, { publicListener: true, configPath: '/x/c.json', env: {} }).baseUrl).toBe('https://video.example.com');
    expect(listenerSourceFor(config, { listenerUrl: 'http://10.0.0.5:8080', configPath: '/x/c.json', env: {} }).baseUrl).toBe('http://10.0.0.5:8080');
    expect(() => listenerSourceFor({ ...config, listener: { ...config.listener, url: undefined } }, { publicListener: true, configPath: '/x/c.json', env: {} })).toThrow(/no listener.url/);
  });
  it('names Basic credentials by user only', () => {
    const source = listenerSourceFor(config, { configPath: '/nowhere/c.json', env: { VIDPIPE_BASIC_AUTH: 'ops:s3cret' } });
    expect(source.credentials).toBe('the Basic credentials of user "ops" from VIDPIPE_BASIC_AUTH');
    expect(source.credentials).not.toContain('s3cret');
  });
});

describe('formatElapsed', () => {
  it('minutes and seconds', () => {
    expect([formatElapsed(8_400), formatElapsed(75_000), formatElapsed(600_000)]).toEqual(['8s', '1m15s', '10m00s']);
  });
});
