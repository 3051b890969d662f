/**
 * One POST of an outbox consumer (Slack notifier, forwarder), reduced to what the notification policy judges: the
 * answer (status, the first 200 characters of its body, Retry-After), a timeout, or a network error — never the URL
 * in any of them (a webhook URL is a credential). 'aborted' when the consumer is stopping.
 */
import type { DeliveryResult } from '../core/notification-policy.js';

export async function deliver(
  url: string,
  init: { headers: Record<string, string>; body: string; timeoutMs: number; stop: AbortSignal; followRedirects?: boolean },
): Promise<DeliveryResult | 'aborted'> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: init.headers,
      body: init.body,
      ...(init.followRedirects === false ? { redirect: 'manual' as const } : {}),
      signal: AbortSignal.any([init.stop, AbortSignal.timeout(init.timeoutMs)]),
    });
  } catch (err) {
    if (init.stop.aborted) return 'aborted';
    const e = err as Error & { cause?: { code?: string } };
    return e.name === 'TimeoutError' ? { kind: 'timeout', afterMs: init.timeoutMs } : { kind: 'network', code: e.cause?.code ?? e.name };
  }
  const body = (await response.text().catch(() => '')).slice(0, 200);
  const retryAfter = response.headers.get('retry-after');
  const seconds = retryAfter === null ? undefined : Number(retryAfter);
  return { kind: 'answer', status: response.status, body, ...(seconds !== undefined && Number.isFinite(seconds) ? { retryAfterSeconds: seconds } : {}) };
}
