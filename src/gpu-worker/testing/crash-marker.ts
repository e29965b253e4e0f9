// The pixel value that makes the crashing test worker end its thread (tests only).

/** A vision input whose first float is this kills the crashing test worker. */
export const CRASH_MARKER = -4242;

/** Exit code the crashing test worker dies with. */
export const CRASH_EXIT_CODE = 70;

/** Set to "1" in process.env before a worker starts to make the crashing test worker fail its startup. */
export const FAIL_STARTUP_ENV = 'FINDIMAGE_TEST_WORKER_FAIL_STARTUP';
