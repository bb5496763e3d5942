// X-Twilio-Signature exactly as Twilio computes it for a form-encoded webhook: the full URL Twilio requested
// (as configured, query string included), then for each POST parameter sorted by name the name followed by
// its value (a repeated parameter: its distinct values sorted, each with the name), HMAC-SHA1 keyed with the
// account's auth token, base64. https://www.twilio.com/docs/usage/webhooks/webhooks-security
import { createHmac } from 'node:crypto';

export type TwilioParams = Record<string, string | string[]>;

export function signTwilioRequest(authToken: string, url: string, params: TwilioParams): string {
  let data = url;
  for (const key of Object.keys(params).sort()) {
    const value = params[key];
    if (Array.isArray(value)) for (const v of [...new Set(value)].sort()) data += key + v;
    else data += key + value;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf-8')).digest('base64');
}
