// Counts the chat events each bot hands to the core, for /metrics, without the bots knowing:
// `findimage serve` gives each bot a view of the core whose search sessions, upload queue and
// deletions count every call by platform and kind before passing it on.
import type { Counter } from 'prom-client';
import type { Findimage } from '../findimage.js';
import type { BotFactory } from './bot-registry.js';

/** The kind of event each counted core call stands for. */
const EVENT_OF: Record<string, Record<string, string>> = {
  sessions: { startText: 'search', startLike: 'search', startImage: 'search', page: 'page', vote: 'vote', reaction: 'reaction', recordShare: 'share' },
  uploads: { enqueue: 'upload' },
  deletions: { messageDeleted: 'delete', fileDeleted: 'delete', conversationDeleted: 'delete' },
};

/** `target` with each listed method counted as `event` before it runs (bound to the target, so private fields work). */
function counted<T extends object>(target: T, events: Record<string, string>, count: (event: string) => void): T {
  return new Proxy(target, {
    get(object, property, _receiver) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      const event = typeof property === 'string' ? events[property] : undefined;
      return (...args: unknown[]) => {
        if (event !== undefined) count(event);
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });
}

/**
 * Wraps bot factories so that the core each bot gets counts its calls in `counter`, labelled
 * with the bot's platform (known once the factory has built the bot).
 */
export function countingFactories(factories: readonly BotFactory[], counter: Counter<'platform' | 'event'>): BotFactory[] {
  return factories.map((factory) => async (config, findimage, logger) => {
    let platform = 'unknown';
    const count = (event: string) => counter.inc({ platform, event });
    const view: Findimage = {
      ...findimage,
      sessions: counted(findimage.sessions, EVENT_OF.sessions ?? {}, count),
      uploads: counted(findimage.uploads, EVENT_OF.uploads ?? {}, count),
      deletions: counted(findimage.deletions, EVENT_OF.deletions ?? {}, count),
    };
    const bot = await factory(config, view, logger);
    if (bot !== undefined) platform = bot.platform;
    return bot;
  });
}
