import type { DeliveryResult } from './alert-output.ts';

/**
 * One HTTP POST with a hard timeout, and what its answer means for a retry: 2xx delivered; 408, 429 and
 * 5xx (and no answer at all) are worth retrying; any other 4xx will fail the same way again, so it is
 * permanent. The reason never carries the URL's token or the request's headers.
 */
export async function postOnce(url: string, init: { headers: Record<string, string>; body: string }, timeoutMs: number): Promise<DeliveryResult> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: init.headers, body: init.body, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    const reason = name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `could not connect (${causeOf(error)})`;
    return { ok: false, permanent: false, reason };
  }
  // Read (and drop) the body, so the connection is released; a body slower than the timeout is a timeout too.
  const text = await response.text().catch(() => '');
  if (response.ok) return { ok: true };
  const permanent = response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
  const said = text.trim().slice(0, 200);
  return { ok: false, permanent, reason: `HTTP ${response.status}${said ? `: ${said}` : ''}` };
}

function causeOf(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
