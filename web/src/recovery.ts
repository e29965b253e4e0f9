// Failures that mend themselves or offer a way out: while findimage is still starting (503
// not_ready) a request is tried again after the Retry-After the server sent, with a countdown,
// until it answers; when the server cannot be reached at all, a Retry button tries again.
import { ApiError } from './api.js';
import { h, replace, stateBlock } from './dom.js';

/** Used when a 503 names no Retry-After. */
const DEFAULT_RETRY_S = 5;
/** Longest wait honoured, so a wrong header cannot park the page for an hour. */
const MAX_RETRY_S = 60;

/**
 * Runs `attempt`, showing in `status` why it waits while the server is not ready, and trying again
 * after each Retry-After until it answers or fails another way (then it throws). A newer call
 * for the same `status` (a new search) ends an older one's waiting: `isCurrent` says whether to go on.
 */
export async function whenReady<T>(attempt: () => Promise<T>, status: HTMLElement, isCurrent: () => boolean): Promise<T> {
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'not_ready' || !isCurrent()) throw error;
      const seconds = Math.min(MAX_RETRY_S, Math.max(1, error.retryAfter ?? DEFAULT_RETRY_S));
      await countdown(status, seconds, error.message);
      if (!isCurrent()) throw error;
    }
  }
}

/** Shows "findimage is starting" with the seconds left before the next try. */
async function countdown(status: HTMLElement, seconds: number, why: string): Promise<void> {
  const left = h('span', { class: 'countdown' }, String(seconds));
  replace(status, h('div', { class: 'state state-loading', role: 'status', 'data-state': 'not-ready' },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }),
    h('p', { class: 'state-title' }, 'findimage is starting.'),
    h('p', { class: 'state-detail' }, why, ' Trying again in ', left, ' s.'),
  ));
  for (let s = seconds; s > 0; s--) {
    left.textContent = String(s);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/**
 * An error block; for a server that does not answer (or answers with a failure of its own), a
 * Retry button that runs `retry`.
 */
export function failureBlock(title: string, error: unknown, retry: () => void): HTMLElement {
  const message = error instanceof Error ? error.message : String(error);
  const block = stateBlock('error', title, message);
  const recoverable = error instanceof ApiError && (error.status === 0 || error.status >= 500);
  if (recoverable) {
    const button = h('button', { type: 'button', class: 'retry' }, 'Retry');
    button.addEventListener('click', retry);
    block.append(button);
  }
  return block;
}
