// HeldImages: reading ahead stops at the count or at the bytes held, whichever comes first, and
// goes on as soon as the indexer lets a file go.
import { describe, expect, it } from 'vitest';
import { HeldImages } from './held-images.js';

const MB = 1024 * 1024;

describe('HeldImages', () => {
  it('has room until the count is reached', () => {
    const held = new HeldImages(2, 100 * MB);
    held.add(MB);
    expect(held.hasRoom).toBe(true);
    held.add(MB);
    expect(held.hasRoom).toBe(false);
  });

  it('has no room once the bytes held reach the bound, however few the files', () => {
    const held = new HeldImages(64, 10 * MB);
    held.add(6 * MB);
    expect(held.hasRoom).toBe(true);
    // One file more is let in while under the bound: the bound is passed by one file at most.
    held.add(6 * MB);
    expect(held.hasRoom).toBe(false);
    expect(held.bytes).toBe(12 * MB);
  });

  it('wakes a reader waiting for room when a file is let go', async () => {
    const held = new HeldImages(1, 10 * MB);
    held.add(MB);
    let woken = false;
    const waiting = held.room().then(() => (woken = true));
    await Promise.resolve();
    expect(woken).toBe(false);
    held.release(MB);
    await waiting;
    expect(held.images).toBe(0);
    expect(held.bytes).toBe(0);
  });

  it('refuses bounds that would never let a file in', () => {
    expect(() => new HeldImages(0, MB)).toThrow(RangeError);
    expect(() => new HeldImages(1, 0)).toThrow(RangeError);
  });
});
