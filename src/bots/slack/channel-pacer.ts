// Spaces the bot's posts to one conversation: Slack allows about one message a second per channel
// and answers bursts with HTTP 429, so the bot waits its turn instead of drawing rate limits.

/** Slack's documented rate for chat.postMessage: about one message per second per channel. */
export const CHANNEL_POST_INTERVAL_MS = 1_000;

export class ChannelPacer {
  readonly #intervalMs: number;
  /** When each conversation may next be posted to (epoch ms); old entries are pruned as they pass. */
  readonly #nextAt = new Map<string, number>();

  constructor(intervalMs = CHANNEL_POST_INTERVAL_MS) {
    this.#intervalMs = intervalMs;
  }

  /** Resolves when a post to `channel` keeps within the rate, and reserves that slot. */
  async turn(channel: string): Promise<void> {
    const now = Date.now();
    for (const [id, at] of this.#nextAt) if (at <= now) this.#nextAt.delete(id);
    const at = Math.max(now, this.#nextAt.get(channel) ?? 0);
    this.#nextAt.set(channel, at + this.#intervalMs);
    if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
  }
}
