// The core as the web app sees it while it starts: the server listens before the model has
// loaded, so /healthz answers at once and every other route says "not yet" (503) instead of
// hanging until the model is ready.
import type { Findimage } from '../findimage.js';

/** Where the core is in its start. */
export type CoreState =
  /** The model and the store are being opened. */
  | { state: 'loading' }
  /** Everything is open. */
  | { state: 'ready'; findimage: Findimage }
  /** Opening failed; the process is about to exit with this error. */
  | { state: 'failed'; error: Error };

/** Holds the core's state for the routes; set by whoever opens the core. */
export class CoreHolder {
  #state: CoreState = { state: 'loading' };

  /** The current state. */
  get current(): CoreState {
    return this.#state;
  }

  /** The core is open. */
  ready(findimage: Findimage): void {
    this.#state = { state: 'ready', findimage };
  }

  /** Opening the core failed. */
  failed(error: Error): void {
    this.#state = { state: 'failed', error };
  }

  /** The core when ready, else undefined. */
  get findimage(): Findimage | undefined {
    return this.#state.state === 'ready' ? this.#state.findimage : undefined;
  }
}
