// The bounded lane queue: capacity, order, removal and retries past the bound.
import { describe, expect, test } from 'vitest';
import { TaskQueue } from './task-queue.js';

describe('TaskQueue', () => {
  test('refuses a push beyond capacity and keeps what it had', () => {
    const queue = new TaskQueue<string>(2);
    expect(queue.push('a')).toBe(true);
    expect(queue.push('b')).toBe(true);
    expect(queue.hasRoom).toBe(false);
    expect(queue.push('c')).toBe(false);
    expect(queue.drain()).toEqual(['a', 'b']);
    expect(queue.size).toBe(0);
  });

  test('puts retried tasks back at the front in their order, even past capacity', () => {
    const queue = new TaskQueue<string>(2);
    queue.push('c');
    queue.push('d');
    queue.requeueFront(['a', 'b']);
    expect(queue.size).toBe(4);
    expect(queue.peek()).toBe('a');
    expect(queue.drain()).toEqual(['a', 'b', 'c', 'd']);
  });

  test('takes up to max matching tasks oldest first and leaves the rest in order', () => {
    const queue = new TaskQueue<string>(10);
    for (const item of ['t1', 'v1', 't2', 't3', 'v2', 't4']) queue.push(item);
    const text = (item: string): boolean => item.startsWith('t');
    expect(queue.count(text)).toBe(4);
    expect(queue.take(text, 3)).toEqual(['t1', 't2', 't3']);
    expect(queue.drain()).toEqual(['v1', 'v2', 't4']);
  });

  test('removes one task and reports whether it was there', () => {
    const queue = new TaskQueue<string>(3);
    queue.push('a');
    queue.push('b');
    expect(queue.remove('a')).toBe(true);
    expect(queue.remove('a')).toBe(false);
    expect(queue.drain()).toEqual(['b']);
  });
});
