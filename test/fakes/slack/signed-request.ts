// Requests as Slack sends them to an app in HTTP mode: form or JSON bodies signed with the
// signing secret (v0= HMAC-SHA256 over "v0:{timestamp}:{raw body}").
import { createHmac } from 'node:crypto';

export interface SignedPostOptions {
  secret: string;
  /** Unix seconds; defaults to now (Bolt refuses requests more than 5 minutes old). */
  timestamp?: number;
  /** Send this signature instead of the right one. */
  signature?: string;
}

export interface SignedResponse {
  status: number;
  body: string;
}

/** The v0 signature Slack would send for this body. */
export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

async function post(url: string, body: string, contentType: string, options: SignedPostOptions): Promise<SignedResponse> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': contentType,
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': options.signature ?? slackSignature(options.secret, timestamp, body),
    },
    body,
  });
  return { status: response.status, body: await response.text() };
}

/** A slash command: form fields. */
export function postSlashCommand(url: string, fields: Record<string, string>, options: SignedPostOptions): Promise<SignedResponse> {
  return post(url, new URLSearchParams(fields).toString(), 'application/x-www-form-urlencoded', options);
}

/** An interaction (button, shortcut): one form field `payload` holding JSON. */
export function postInteraction(url: string, payload: Record<string, unknown>, options: SignedPostOptions): Promise<SignedResponse> {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return post(url, body, 'application/x-www-form-urlencoded', options);
}

/** An Events API callback: JSON. */
export function postEvent(url: string, payload: Record<string, unknown>, options: SignedPostOptions): Promise<SignedResponse> {
  return post(url, JSON.stringify(payload), 'application/json', options);
}
