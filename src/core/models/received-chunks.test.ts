// receivedChunks: every chunk that arrived is handed on, even when the stream then fails.
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { receivedChunks } from './received-chunks.js';

/** Reads `source` slowly (a disk write per chunk), returning the bytes read and the error, if any. */
async function readSlowly(source: Readable): Promise<{ bytes: number; error: unknown }> {
  let bytes = 0;
  try {
    for await (const chunk of receivedChunks(source)) {
      bytes += chunk.length;
      await sleep(1);
    }
  } catch (error) {
    return { bytes, error };
  }
  return { bytes, error: undefined };
}

describe('receivedChunks', () => {
  it('hands on every chunk that arrived before the stream failed, then throws its error', async () => {
    const source = new Readable({ read() {} });
    for (let i = 0; i < 5; i++) source.push(Buffer.alloc(10));
    const read = readSlowly(source);
    source.destroy(new Error('other side closed'));

    const { bytes, error } = await read;

    expect(bytes).toBe(50);
    expect((error as Error).message).toBe('other side closed');
  });

  it('ends without an error after the last chunk of a stream that ended', async () => {
    expect(await readSlowly(Readable.from([Buffer.alloc(3), Buffer.alloc(4)]))).toEqual({ bytes: 7, error: undefined });
  });

  it('counts a stream that closes before it ends as cut', async () => {
    const source = new Readable({ read() {} });
    source.push(Buffer.alloc(8));
    const read = readSlowly(source);
    source.destroy();

    const { bytes, error } = await read;

    expect(bytes).toBe(8);
    expect(error).toBeInstanceOf(Error);
  });

  it('settles at once for a stream that failed before it was read', async () => {
    const source = new Readable({ read() {} });
    source.on('error', () => {});
    source.destroy(new Error('refused'));
    await sleep(1);

    expect((await readSlowly(source)).error).toEqual(new Error('refused'));
  });
});
