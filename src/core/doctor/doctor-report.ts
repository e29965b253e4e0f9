// Runs the checks of `findimage doctor`, each with its own time limit, and gathers the results:
// a hung service becomes a failed line ("no answer in 10 s"), never a hung command, and a check
// that throws becomes a failed line with the error's message.
import { FindimageError } from '../errors.js';
import { type Check, type CheckResult, type CheckStatus } from './check.js';

/**
 * How long a check may take unless it says otherwise. A healthy service on any network answers
 * a handful of requests in well under a second; 10 s leaves room for a TLS handshake across
 * regions and a slow DNS, and still tells a person quickly that something does not answer.
 */
export const DEFAULT_CHECK_TIMEOUT_MS = 10_000;

/**
 * Limit of one request a check makes: shorter than the check's own limit, so a slow request fails
 * on its own and the line says what timed out, instead of the check's bare "no answer".
 */
export const DOCTOR_REQUEST_TIMEOUT_MS = DEFAULT_CHECK_TIMEOUT_MS - 2_000;

/** One check's line of the report. */
export interface CheckOutcome extends CheckResult {
  /** The check's name. */
  name: string;
}

/** Every check's outcome, in the order the checks were given. */
export interface DoctorReport {
  /** One per check, in order. */
  outcomes: CheckOutcome[];
  /** The worst status of all: fail if any failed, else warn if any warned, else ok. */
  status: CheckStatus;
}

export interface RunChecksOptions {
  /** Limit of a check that sets none (default DEFAULT_CHECK_TIMEOUT_MS). */
  timeoutMs?: number;
}

const SEVERITY: Record<CheckStatus, number> = { ok: 0, warn: 1, fail: 2 };

/** The worst of some statuses (ok for none). */
export function worstStatus(statuses: readonly CheckStatus[]): CheckStatus {
  return statuses.reduce<CheckStatus>((worst, status) => (SEVERITY[status] > SEVERITY[worst] ? status : worst), 'ok');
}

/** "10 s", "1.5 s", "250 ms". */
function duration(ms: number): string {
  return ms >= 1_000 ? `${Number((ms / 1_000).toFixed(1))} s` : `${ms} ms`;
}

/** The message of anything thrown, without a stack. */
function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs one check within its limit; never throws. */
export async function runCheck(check: Check, defaultTimeoutMs = DEFAULT_CHECK_TIMEOUT_MS): Promise<CheckOutcome> {
  const limitMs = check.timeoutMs ?? defaultTimeoutMs;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({
        status: 'fail',
        summary: `no answer in ${duration(limitMs)}`,
        action: 'Check that the service is running and reachable from this machine (address, firewall, proxy).',
      });
    }, limitMs);
  });
  try {
    const result = await Promise.race([
      check.run(controller.signal).catch((error: unknown): CheckResult => ({
        status: 'fail',
        summary: messageOf(error),
        action: 'Fix what the message names, then run findimage doctor again.',
      })),
      expired,
    ]);
    return { name: check.name, ...result };
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

/**
 * Runs every check at once (they look at different services, so one slow answer does not delay
 * the others), except those that hold the main thread: they run after, one at a time, so their
 * synchronous work never stalls another check's I/O. Reports them in the order given.
 */
export async function runChecks(checks: readonly Check[], options: RunChecksOptions = {}): Promise<DoctorReport> {
  const outcomes = new Array<CheckOutcome>(checks.length);
  const concurrent = checks.map((check, at) => ({ check, at })).filter(({ check }) => check.holdsThread !== true);
  await Promise.all(concurrent.map(async ({ check, at }) => (outcomes[at] = await runCheck(check, options.timeoutMs))));
  for (const [at, check] of checks.entries()) {
    if (check.holdsThread === true) outcomes[at] = await runCheck(check, options.timeoutMs);
  }
  return { outcomes, status: worstStatus(outcomes.map((o) => o.status)) };
}

/** One line of the text report: status, name, what was found, and what to do. */
export function formatOutcome(outcome: CheckOutcome): string {
  const action = outcome.action === undefined ? '' : ` → ${outcome.action}`;
  return `${outcome.status.padEnd(4)}  ${outcome.name}: ${outcome.summary}${action}`;
}

/** `findimage doctor` found failed checks; the message names them, their lines say what to do. */
export class ChecksFailedError extends FindimageError {
  constructor(failed: readonly string[], total: number) {
    super('checks_failed', `${failed.length} of ${total} checks failed: ${failed.join(', ')}. Each one's line above says what to do.`, {
      details: { failed },
    });
  }
}
