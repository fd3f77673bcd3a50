import Telnyx from 'telnyx';

export type TelnyxClient = Telnyx;

export interface TelnyxClientOptions {
  /** Default: TELNYX_API_KEY. */
  apiKey?: string;
  /** Default: TELNYX_BASE_URL, else the SDK's https://api.telnyx.com/v2. */
  baseURL?: string;
  /**
   * SDK-level retries. 0 by default: queued actions retry through BullMQ (attempts/backoff survive restarts and
   * free the worker slot while waiting), and stacking the SDK's retries under that would multiply attempts.
   * Synchronous callers (fork control) pass their own `maxRetries` per request.
   */
  maxRetries?: number;
  timeoutMs?: number;
}

/** The official SDK client, configured the way forkguard uses it. */
export function createTelnyxClient(options: TelnyxClientOptions = {}): TelnyxClient {
  const apiKey = options.apiKey ?? process.env.TELNYX_API_KEY;
  if (!apiKey) throw new Error('TELNYX_API_KEY is not set (needed to act on calls through Telnyx)');
  return new Telnyx({
    apiKey,
    baseURL: options.baseURL ?? process.env.TELNYX_BASE_URL ?? undefined,
    maxRetries: options.maxRetries ?? 0,
    timeout: options.timeoutMs ?? 10_000,
    logLevel: 'off',
  });
}
