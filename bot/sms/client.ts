// The real Twilio SDK, optionally pointed at another origin (TWILIO_API_URL) so tests talk to the fake in
// test/fakes/twilio.ts. The SDK builds absolute https://<product>.twilio.com URIs itself (adding region
// and edge from options or TWILIO_REGION/TWILIO_EDGE) and hands them to its http client, so the one place
// to redirect every call is the http client: a RequestClient subclass that swaps the origin.
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import type { SendResult } from '../adapter';

export interface TwilioClientOptions {
  accountSid: string;
  authToken: string;
  /** Replaces https://*.twilio.com in every request (path and query kept); a path here is a prefix. */
  apiUrl?: string;
  /** Per-request timeout; the SDK's default is 30 s, too long for a send job. */
  timeoutMs?: number;
}

export type TwilioClient = twilio.Twilio;

const isTwilioHost = (host: string) => host === 'twilio.com' || host.endsWith('.twilio.com');

/** `uri` with its Twilio origin replaced by `apiUrl` (other origins are left alone). */
export function rewriteTwilioUri(uri: string, apiUrl: string): string {
  const u = new URL(uri);
  if (!isTwilioHost(u.hostname)) return uri;
  const base = new URL(apiUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  return `${base.origin}${prefix}${u.pathname}${u.search}`;
}

class RedirectingRequestClient extends twilio.RequestClient {
  readonly #apiUrl: string;
  constructor(apiUrl: string, opts: RequestClient.RequestClientOptions) {
    super(opts);
    this.#apiUrl = apiUrl;
  }
  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    return super.request<TData>({ ...opts, uri: rewriteTwilioUri(opts.uri, this.#apiUrl) });
  }
}

export function createTwilioClient(opts: TwilioClientOptions): TwilioClient {
  const timeout = opts.timeoutMs ?? 10_000;
  if (!opts.apiUrl) return twilio(opts.accountSid, opts.authToken, { timeout, autoRetry: false });
  new URL(opts.apiUrl); // fail at start on a malformed override, not on the first send
  return twilio(opts.accountSid, opts.authToken, {
    httpClient: new RedirectingRequestClient(opts.apiUrl, { timeout, autoRetry: false }),
  });
}

/** Twilio API error codes that no retry will fix (the number, the account or the recipient's opt-out). */
const PERMANENT_CODES = new Set([
  20003, // authenticate
  21211, // invalid 'To' number
  21408, // region not enabled
  21606, // 'From' is not a valid SMS-capable number
  21610, // recipient replied STOP
  21612, // cannot route between these numbers
  21614, // 'To' is not a mobile number
]);

/**
 * What a failed `messages.create` means for the send job: 429, 5xx and network errors are temporary;
 * other 4xx (bad number, opted out, bad credentials) are permanent.
 */
export function twilioErrorToSendResult(err: unknown): Extract<SendResult, { outcome: 'failed_temp' | 'failed_perm' }> {
  const e = (err ?? {}) as { status?: unknown; code?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (typeof e.status === 'number') {
    const code = typeof e.code === 'number' ? e.code : undefined;
    const error = `twilio ${e.status}${code !== undefined ? ` (${code})` : ''}: ${message}`;
    if (code !== undefined && PERMANENT_CODES.has(code)) return { outcome: 'failed_perm', error };
    if (e.status === 429 || e.status >= 500) return { outcome: 'failed_temp', error };
    if (e.status >= 400) return { outcome: 'failed_perm', error };
    return { outcome: 'failed_temp', error };
  }
  // No HTTP status: connection refused, reset, timeout (axios errors carry `code` strings).
  return { outcome: 'failed_temp', error: `twilio unreachable: ${message}` };
}
