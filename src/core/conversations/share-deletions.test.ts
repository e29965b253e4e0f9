// ShareDeletions: a deleted message is remembered so that its queued uploads are taken off when
// they finish; a replaced message (an uncached edit) loses its shares but is not remembered.
import { expect, test } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import type { PointFilter, ShareFilter } from '../store/vector-store.js';
import { ShareDeletions } from './share-deletions.js';

function deletions() {
  const removed: Array<PointFilter & { share: ShareFilter }> = [];
  const store = { removeShares: async (filter: PointFilter & { share: ShareFilter }) => (removed.push(filter), { shares: 0, points: 1 }) };
  return { removed, deletions: new ShareDeletions({ store, logger: createSilentLogger() }) };
}

const origin = { tenant: 'g', conversation: 'c', messageId: 'm', fileId: 'f' };

test('a deleted message takes off uploads of it that finish later', async () => {
  const { removed, deletions: d } = deletions();
  await d.messageDeleted('g', 'c', 'm');
  expect(await d.recheck(origin)).toBe(true);
  expect(removed).toHaveLength(2);
});

test('a replaced message loses its shares, but uploads of it that finish later stay', async () => {
  const { removed, deletions: d } = deletions();
  await d.messageReplaced('g', 'c', 'm');
  expect(removed).toEqual([{ tenant: 'g', share: { conversations: ['c'], messageId: 'm' } }]);
  expect(await d.recheck(origin)).toBe(false);
  expect(removed).toHaveLength(1);
});
