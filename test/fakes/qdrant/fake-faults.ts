// Faults the fake Qdrant can inject, each for the next N requests that match: an error status
// (500, 503, 429 with Retry-After, 401), a dropped connection (each before or after the request
// is applied), a truncated body, a body that is not JSON, or any status and body given verbatim
// (PROXY_NOT_FOUND and NO_ROUTE: a 404 that is not Qdrant's word on a collection), or an answer
// held back until the test lets it go (to force an interleaving without timing anything).
export type Fault =
  /**
   * Answer with this status and Qdrant's error body; 429 may carry Retry-After in seconds.
   * `afterApplying`: the request takes effect first, as a write does on the replicas that were
   * up when a cluster answers that fewer than write_consistency_factor of them applied it.
   */
  | { kind: 'status'; status: number; message?: string; retryAfterSeconds?: number; afterApplying?: boolean }
  /** Close the connection without answering. `afterApplying`: the request takes effect first. */
  | { kind: 'drop'; afterApplying?: boolean }
  /** Apply the request, send 200 headers and half of the body, then close the connection. */
  | { kind: 'truncate' }
  /** Apply the request and answer 200 with a JSON content type and a body that is not JSON. */
  | { kind: 'malformed' }
  /** Answer with exactly this status and body, without applying the request. */
  | { kind: 'respond'; status: number; body: string; contentType?: string }
  /**
   * Apply the request, call `applied`, and send the answer only once `release` settles: the
   * client then acts on what it read while other requests go on.
   */
  | { kind: 'hold'; release: Promise<void>; applied?: () => void };

/** A hold fault with its handles: `applied` settles once the request took effect. */
export interface Hold {
  /** The fault to inject. */
  fault: Fault;
  /** Settles once the held request has been applied (its answer is still held back). */
  applied: Promise<void>;
  /** Sends the held answer. */
  release: () => void;
}

/** Makes a hold fault: inject `fault`, await `applied`, do other things, then `release()`. */
export function hold(): Hold {
  let release!: () => void;
  let applied!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const appliedPromise = new Promise<void>((resolve) => {
    applied = resolve;
  });
  return { fault: { kind: 'hold', release: released, applied }, applied: appliedPromise, release };
}

/**
 * A 404 as a reverse proxy in front of Qdrant answers while its upstream is being redeployed:
 * an HTML page, not Qdrant's error body.
 */
export const PROXY_NOT_FOUND: Fault = {
  kind: 'respond',
  status: 404,
  body: '<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center></body></html>',
  contentType: 'text/html',
};

/** A 404 as Qdrant's web framework (actix) answers a path it has no route for: an empty body. */
export const NO_ROUTE: Fault = { kind: 'respond', status: 404, body: '', contentType: 'text/plain' };

/** What a fault rule may look at to decide whether a request is its target. */
export interface FaultTarget {
  method: string;
  /** Path without the query string, e.g. "/collections/findimage_x/points". */
  path: string;
}

interface FaultRule {
  fault: Fault;
  remaining: number;
  match: (target: FaultTarget) => boolean;
}

export class FaultPlan {
  readonly #rules: FaultRule[] = [];

  /**
   * Injects `fault` into the next `times` requests that `match` accepts (every request by
   * default). Rules are tried in the order they were added.
   */
  inject(fault: Fault, options: { times?: number; match?: (target: FaultTarget) => boolean } = {}): void {
    this.#rules.push({ fault, remaining: options.times ?? 1, match: options.match ?? (() => true) });
  }

  /** The fault for this request, if any rule still applies; uses up one of its repetitions. */
  take(target: FaultTarget): Fault | undefined {
    const rule = this.#rules.find((r) => r.remaining > 0 && r.match(target));
    if (rule === undefined) return undefined;
    rule.remaining--;
    return rule.fault;
  }

  /** Repetitions still pending across all rules. */
  get pending(): number {
    return this.#rules.reduce((sum, r) => sum + r.remaining, 0);
  }

  clear(): void {
    this.#rules.length = 0;
  }
}
