// What `findimage doctor` runs: a Check looks at one part of a deployment (the model files, the
// store, a chat platform's token, Redis, the web bind) and says ok, warn or fail with what to do.
// Checks are platform-free here; each adapter (bots, web, gpu-worker, the stores) builds its own.

/** How a check went: ok (nothing to do), warn (works, but fix it), fail (will not work). */
export type CheckStatus = 'ok' | 'warn' | 'fail';

/** What a check found. */
export interface CheckResult {
  /** ok, warn or fail. */
  status: CheckStatus;
  /** What was found, one line ("tiny-test: 3 files, size and sha256 match"). */
  summary: string;
  /** What to do about it, one line; absent when there is nothing to do. */
  action?: string;
}

/** One look at one part of a deployment. */
export interface Check {
  /** Short name shown at the start of its line ("model files", "slack scopes"). */
  readonly name: string;
  /**
   * How long the check may take before it counts as failed; the report's default otherwise.
   * Hashing a 600 MB model takes seconds, a network round trip milliseconds.
   */
  readonly timeoutMs?: number;
  /**
   * True when the check does long synchronous work on the main thread (SQLite's integrity_check
   * through better-sqlite3). Such a check runs after the others have finished, one at a time: run
   * beside them it would starve their sockets and timers, and a healthy service would read as
   * "no answer". Its time limit then counts while it alone runs.
   */
  readonly holdsThread?: boolean;
  /**
   * Looks and reports. A thrown error counts as a failure with the error's message; `signal`
   * aborts when the check ran out of time (and, harmlessly, once it has ended): the check must
   * then stop its requests and its work (and leave no record of a result it did not finish), so
   * nothing outlives the report.
   */
  run(signal: AbortSignal): Promise<CheckResult>;
}

/** A passing result. */
export function ok(summary: string): CheckResult {
  return { status: 'ok', summary };
}

/** A result that works for now but asks for a fix. */
export function warn(summary: string, action: string): CheckResult {
  return { status: 'warn', summary, action };
}

/** A result that will not work until fixed. */
export function fail(summary: string, action: string): CheckResult {
  return { status: 'fail', summary, action };
}

/** The line of a check that cannot look because `failedCheck` failed first: that line says what to do. */
export function blockedBy(failedCheck: string, summary: string): CheckResult {
  return fail(summary, `Fix what the ${failedCheck} line says first.`);
}

/** Why a call to a service failed. */
export interface CallFailure {
  /** True when the service answered and said no (a refused token, a missing right); false when it was not reached. */
  refused: boolean;
  /** The service's error code or the client's message. */
  error: string;
}

/** A service a check could not reach at all (refused connection, DNS, timeout). */
export interface ServiceAddress {
  /** The service as a person names it in the summary ("Slack's Web API"). */
  name: string;
  /** Who runs it, for the action ("Slack"). */
  owner: string;
  /** The address tried. */
  url: string;
  /** The setting that changes the address ("SLACK_API_URL"). */
  setting: string;
}

/** The line of a service that was not reached: where it was tried, why, and what to look at. */
export function unreachable(service: ServiceAddress, error: string): CheckResult {
  return fail(
    `cannot reach ${service.name} at ${service.url} (${error})`,
    `Check the network, proxy and firewall between this machine and ${service.owner} (and ${service.setting}, when set).`,
  );
}
