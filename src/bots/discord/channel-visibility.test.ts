// Discord's facts for core's scope rule: a channel discord.js has not cached is unknown, so a
// search there shows only that channel's images and its shares count as private; a DM is a
// tenant of its own. (Known channels and threads are covered end to end in test/discord.)
import { describe, expect, it } from 'vitest';
import { placeOf, visibilityOf } from './channel-visibility.js';

describe('Discord channel facts', () => {
  it('has no facts for a channel discord.js has not cached: the channel alone, its shares private', () => {
    expect(visibilityOf(null)).toBeUndefined();
    expect(visibilityOf(undefined)).toBeUndefined();
    expect(placeOf('G1', 'C1', null)).toEqual({ tenant: 'G1', conversation: 'C1', isPublic: false, scope: { tenant: 'G1', channels: ['C1'], includePublic: false } });
  });

  it('scopes a DM to its own tenant and conversation', () => {
    const place = placeOf(null, 'D1', null);
    expect(place).toMatchObject({ tenant: 'dm:D1', conversation: 'D1', isPublic: false });
    expect(place.scope).toMatchObject({ tenant: 'dm:D1', channels: ['D1'] });
  });
});
