/** A small GET for doctor's probes (readyz, the read API, the API destination's URL): status and body, or the network error's code. */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface ProbeAnswer {
  status: number;
  body: string;
  ms: number;
}

export class ProbeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** TLS errors that mean "the certificate is not trusted": EventBridge calls only endpoints with a publicly trusted one. */
export const CERTIFICATE_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function probe(url: URL, headers: Record<string, string> = {}, timeoutMs = 5_000): Promise<ProbeAnswer> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers: { accept: 'application/json', ...headers }, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 16_384) body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: Math.round(performance.now() - started) }));
      res.on('error', (err: Error & { code?: string }) => reject(new ProbeError(err.code ?? 'ERROR', err.message)));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', (err: Error & { code?: string }) => reject(new ProbeError(err.code ?? 'ERROR', err.message)));
    req.end();
  });
}
