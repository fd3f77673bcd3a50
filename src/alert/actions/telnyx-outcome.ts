import { APIConnectionError, APIError } from 'telnyx';

export const ACTION_OUTCOMES = ['ok', 'call_ended', 'rejected', 'retry', 'failed'] as const;
export type ActionOutcome = (typeof ACTION_OUTCOMES)[number];

export interface TelnyxFailure {
  /** 429, 408/409, 5xx and network failures: try again later. */
  retryable: boolean;
  /** The call is gone: nothing left to act on, which is an outcome and not an error. */
  callEnded: boolean;
  status: number | null;
  /** One line for the job's failedReason and the log. */
  reason: string;
  /** What the API asked us to wait (Retry-After / retry-after-ms), when it said. */
  retryAfterMs: number | null;
}

/** Telnyx's "Call has already ended" / "call not active" error codes. */
const CALL_ENDED_CODES = new Set(['90018', '90053', '90055']);
const CALL_ENDED_TEXT =
  /already (ended|hung ?up|been hung)|no longer active|call (is )?not active|call has ended/i;

export function classifyTelnyxError(err: unknown, nowMs = Date.now()): TelnyxFailure {
  if (err instanceof APIError && typeof err.status === 'number') {
    const status = err.status;
    const details = errorDetails(err.error);
    const reason = `${status} ${details.text || err.message}`.slice(0, 500);
    const callEnded =
      (status === 422 || status === 404 || status === 410) &&
      (details.codes.some((c) => CALL_ENDED_CODES.has(c)) || CALL_ENDED_TEXT.test(details.text));
    const retryable = status === 429 || status === 408 || status === 409 || status >= 500;
    return { retryable, callEnded, status, reason, retryAfterMs: retryAfterMs(err.headers, nowMs) };
  }
  if (err instanceof APIConnectionError) {
    return {
      retryable: true,
      callEnded: false,
      status: null,
      reason: `connection: ${err.message}`,
      retryAfterMs: null,
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { retryable: false, callEnded: false, status: null, reason: message, retryAfterMs: null };
}

function errorDetails(body: unknown): { codes: string[]; text: string } {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(errors))
    return { codes: [], text: typeof body === 'object' ? JSON.stringify(body ?? '') : '' };
  const codes: string[] = [];
  const parts: string[] = [];
  for (const e of errors as Array<Record<string, unknown>>) {
    if (e.code !== undefined) codes.push(String(e.code));
    const text = [e.title, e.detail].filter((t) => typeof t === 'string').join(': ');
    parts.push(e.code !== undefined ? `[${e.code}] ${text}` : text);
  }
  return { codes, text: parts.join('; ') };
}

/** Retry-After as seconds or an HTTP date, or the non-standard retry-after-ms, in milliseconds. */
export function retryAfterMs(headers: Headers | undefined, nowMs = Date.now()): number | null {
  const ms = headers?.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers?.get('retry-after');
  if (!value) return null;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}
