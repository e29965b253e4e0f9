// Which of an image's shares a result may show (and link to) in a conversation's scope; the
// scope itself is built and tested in scope-for-conversation.test.ts.
import { describe, expect, it } from 'vitest';
import type { ImagePayload, ImageShare } from '../store/vector-store.js';
import { visibleShares } from './conversation-scope.js';

function share(conversation: string, isPublic = false): ImageShare {
  return { conversation, isPublic, sharedAt: '2026-01-01T00:00:00.000Z', messageId: `m-${conversation}` };
}

function image(shares: ImageShare[], tenant = 'T1'): ImagePayload {
  return {
    tenant,
    source: 'slack',
    filename: 'cat.png',
    contentHash: 'a'.repeat(64),
    modelId: 'clip-vit-b32',
    createdAt: '2026-01-01T00:00:00.000Z',
    width: 10,
    height: 10,
    shares,
  };
}

describe('visibleShares', () => {
  const here = share('C-here');
  const publicElsewhere = share('C-pub', true);
  const privateElsewhere = share('C-secret');

  it('lists the shares in the scope’s own conversations first, then public ones elsewhere, never private ones elsewhere', () => {
    const scope = { tenant: 'T1', channels: ['C-here'], includePublic: true };
    expect(visibleShares(image([publicElsewhere, privateElsewhere, here]), scope)).toEqual([here, publicElsewhere]);
  });

  it('leaves out public shares of other conversations when the scope excludes public ones', () => {
    const scope = { tenant: 'T1', channels: ['C-here'], includePublic: false };
    expect(visibleShares(image([publicElsewhere, here]), scope)).toEqual([here]);
    expect(visibleShares(image([publicElsewhere]), scope)).toEqual([]);
    expect(visibleShares(image([publicElsewhere]), { tenant: 'T1', channels: ['C-here'] })).toEqual([]);
  });

  it('shows no share of another tenant’s image, even one in a conversation of the same id', () => {
    const everything = { tenant: 'T1' };
    const sameIds = { tenant: 'T1', channels: ['C-here'], includePublic: true };
    expect(visibleShares(image([here, publicElsewhere], 'T2'), everything)).toEqual([]);
    expect(visibleShares(image([here, publicElsewhere], 'T2'), sameIds)).toEqual([]);
  });

  it('shows every share under an unrestricted scope (the CLI and the web app)', () => {
    expect(visibleShares(image([privateElsewhere, publicElsewhere]), { tenant: 'T1' })).toEqual([privateElsewhere, publicElsewhere]);
  });
});
