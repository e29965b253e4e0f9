// The one rule for what a chat conversation may show, whatever the platform: its own images (a
// thread's parent's too) and the tenant's public ones; only its own when it is shared outside
// the tenant or when its facts are unknown (a failed lookup, a thread whose parent is unknown).
import { describe, expect, it } from 'vitest';
import { scopeForConversation, scopeForTenant } from './conversation-scope.js';

describe('scopeForConversation', () => {
  it('shows a conversation its own images and the tenant\'s public ones', () => {
    expect(scopeForConversation('T1', 'C1', { isShared: false })).toEqual({ tenant: 'T1', channels: ['C1'], includePublic: true });
  });

  it('shows a conversation shared outside the tenant only its own images', () => {
    expect(scopeForConversation('T1', 'C1', { isShared: true })).toEqual({ tenant: 'T1', channels: ['C1'], includePublic: false });
  });

  it('shows a conversation whose facts are unknown only its own images: when in doubt, show less', () => {
    expect(scopeForConversation('T1', 'C1', undefined)).toEqual({ tenant: 'T1', channels: ['C1'], includePublic: false });
  });

  it('shows a thread its parent\'s images too, and the public ones unless it is shared outside', () => {
    expect(scopeForConversation('T1', 'TH1', { isShared: false, parent: 'C1' })).toEqual({ tenant: 'T1', channels: ['TH1', 'C1'], includePublic: true });
    expect(scopeForConversation('T1', 'TH1', { isShared: true, parent: 'C1' })).toEqual({ tenant: 'T1', channels: ['TH1', 'C1'], includePublic: false });
  });

  it('scopes a front end that may see the whole tenant to that tenant, any conversation', () => {
    expect(scopeForTenant('local')).toEqual({ tenant: 'local' });
  });
});
