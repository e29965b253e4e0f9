// Bolt's HTTP receiver with Slack's five-minute replay window enforced in both directions. Bolt 5.1
// refuses a signed request stamped more than five minutes in the past but accepts one stamped any
// time in the future, so a captured request stamped ahead could be replayed for far longer than
// the window meant to bound replays. This receiver refuses those with 401 before Bolt reads the
// body; everything else (signature, staleness, routing) stays Bolt's.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HTTPReceiver, type HTTPReceiverOptions } from '@slack/bolt';
import type { Logger } from 'pino';

/**
 * How far a request's timestamp may be from our clock, either way. Slack's documentation asks apps
 * to refuse requests more than five minutes off, and Bolt already uses that window for old ones.
 */
export const SLACK_REQUEST_MAX_SKEW_SEC = 5 * 60;

/** Slack's header with the Unix seconds the request was signed at. */
const TIMESTAMP_HEADER = 'x-slack-request-timestamp';

/** What the receiver needs beyond Bolt's own options. */
export interface FreshRequestReceiverOptions extends HTTPReceiverOptions {
  /** Where a refused request is logged (the component's pino logger, not Bolt's adapter). */
  log: Logger;
  /** The clock in milliseconds; tests pass a fixed one. Defaults to Date.now. */
  now?: () => number;
}

/**
 * True when the header holds a timestamp more than the allowed skew ahead of `nowMs`. A missing or
 * malformed header is not judged here: Bolt's own verification refuses it.
 */
export function isStampedInTheFuture(header: string | string[] | undefined, nowMs: number): boolean {
  const seconds = Number(Array.isArray(header) ? header[0] : header);
  return Number.isFinite(seconds) && seconds > Math.floor(nowMs / 1000) + SLACK_REQUEST_MAX_SKEW_SEC;
}

/** Bolt's HTTPReceiver, refusing requests signed more than five minutes in the future. */
export class FreshRequestReceiver extends HTTPReceiver {
  constructor(options: FreshRequestReceiverOptions) {
    const { log, now = Date.now, ...boltOptions } = options;
    super(boltOptions);
    // Bolt's server calls this.requestListener for every request; putting the check in front of
    // it keeps Bolt's verification, body limits and error handling exactly as they are.
    const verifyAndDispatch = this.requestListener;
    this.requestListener = (req: IncomingMessage, res: ServerResponse) => {
      if (isStampedInTheFuture(req.headers[TIMESTAMP_HEADER], now())) {
        log.warn({ event: 'slack_request_refused', reason: 'timestamp_in_future', timestamp: req.headers[TIMESTAMP_HEADER] }, 'Refused a Slack request signed more than five minutes in the future');
        res.writeHead(401);
        res.end();
        return;
      }
      verifyAndDispatch(req, res);
    };
  }
}
