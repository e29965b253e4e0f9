// Spaces a bot's posts to one conversation: Slack allows about one message a second per channel
// and answers bursts with HTTP 429, so the bot waits its turn instead of drawing rate limits.
// PostPacer is the seam; ChannelPacer paces within this process, and a fleet's pacer (in
// src/core/fleet) keeps the same spacing across replicas.
import { setTimeout as sleepFor } from 'node:timers/promises';

/** Slack's documented rate for chat.postMessage: about one message per second per channel. */
export const CHANNEL_POST_INTERVAL_MS = 1_000;

/** The clock a pacer reads and waits on; tests pass one whose time moves only when it is waited on. */
export interface PacerClock {
  /** The current time in epoch ms. */
  now: () => number;
  /** Resolves after `ms` milliseconds (the wait for a conversation's next slot). */
  sleep: (ms: number) => Promise<void>;
}

/** The real clock: Date.now and a timer. */
export const SYSTEM_CLOCK: PacerClock = { now: () => Date.now(), sleep: (ms) => sleepFor(ms) };

export interface ChannelPacerOptions {
  /** Least time between two posts to one conversation; defaults to CHANNEL_POST_INTERVAL_MS. */
  intervalMs?: number;
  /** Defaults to SYSTEM_CLOCK. */
  clock?: PacerClock;
}

/** Keeps posts to one conversation at most one per interval. */
export interface PostPacer {
  /** Resolves when a post to `channel` keeps within the rate, and reserves that slot. Never throws. */
  turn(channel: string): Promise<void>;
}

/** A PostPacer for one process: enough for one replica, and the fleet's fallback. */
export class ChannelPacer implements PostPacer {
  readonly #intervalMs: number;
  readonly #clock: PacerClock;
  /** When each conversation may next be posted to (epoch ms); old entries are pruned as they pass. */
  readonly #nextAt = new Map<string, number>();

  constructor(options: ChannelPacerOptions = {}) {
    this.#intervalMs = options.intervalMs ?? CHANNEL_POST_INTERVAL_MS;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
  }

  async turn(channel: string): Promise<void> {
    const now = this.#clock.now();
    for (const [id, at] of this.#nextAt) if (at <= now) this.#nextAt.delete(id);
    const at = Math.max(now, this.#nextAt.get(channel) ?? 0);
    this.#nextAt.set(channel, at + this.#intervalMs);
    if (at > now) await this.#clock.sleep(at - now);
  }
}
