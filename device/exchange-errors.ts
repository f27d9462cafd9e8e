/**
 * Failures talking to the collection exchange (the school's cloud engine), in words that say what to
 * do: an error answer is read from its x-amzn-ErrorType header and JSON message, as the engine sends them.
 */

export class ExchangeError extends Error {
  override readonly name = 'ExchangeError';
}

/** A fetch that never got an answer: the address is wrong or the engine is down. */
export function unreachable(url: string, error: unknown, check: string): ExchangeError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return new ExchangeError(`cannot reach ${url} (${reason}): ${check}, that the engine runs, and the network`);
}

/** The engine's error type and message from an answer that is not 2xx. */
export async function errorAnswer(response: Response): Promise<{ type: string; message: string }> {
  const text = await response.text().catch(() => '');
  let message = text.trim().slice(0, 500);
  try {
    const body = JSON.parse(text) as { message?: unknown; Message?: unknown };
    const said = body.message ?? body.Message;
    if (typeof said === 'string') message = said;
  } catch {
    // Not JSON (a proxy's page): its first characters say enough.
  }
  const type = response.headers.get('x-amzn-errortype')?.split(':')[0] ?? `HTTP ${response.status}`;
  // AWS-style messages may go on with the canonical request on later lines: the first says what is wrong.
  return { type, message: message.split('\n')[0]!.trim() || response.statusText };
}
