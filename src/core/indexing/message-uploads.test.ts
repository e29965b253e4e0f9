// A chat message's uploads are answered once: when the last of its files is done, with every
// failure and whether anything was indexed, however the outcomes and the intake interleave.
import { describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../logger.js';
import { captureLog } from '../testing/wait-until.js';
import { FindimageError, InvalidImageError } from '../errors.js';
import type { ImageShare } from '../store/vector-store.js';
import type { IndexResult } from './image-indexer.js';
import { MessageUploads, type MessageSettlement } from './message-uploads.js';
import type { UploadOutcome } from './upload-queue.js';

const TENANT = 'T1';
const SOURCE = 'chat';

function share(messageId: string, fileId: string): ImageShare {
  return { conversation: 'C1', isPublic: true, sharedAt: '2026-01-01T00:00:00.000Z', messageId, fileId };
}

function indexed(jobId: string, filename: string): UploadOutcome {
  const image = { tenant: TENANT, source: SOURCE, filename, share: share('M1', jobId) };
  return { status: 'indexed', jobId, image, result: { status: 'indexed', id: jobId } as IndexResult };
}

function rejected(jobId: string, filename: string): UploadOutcome {
  const image = { tenant: TENANT, source: SOURCE, filename, share: share('M1', jobId) };
  return { status: 'rejected', jobId, image, error: new InvalidImageError('image_invalid', `${filename} is damaged.`) };
}

function withdrawn(jobId: string, filename: string): UploadOutcome {
  return { status: 'withdrawn', jobId, image: { tenant: TENANT, source: SOURCE, filename, share: share('M1', jobId) } };
}

/** A queue that emits outcomes on demand, and the uploads that follow it. */
function setUp() {
  const listeners = new Set<(outcome: UploadOutcome) => void>();
  const queue = {
    onOutcome(listener: (outcome: UploadOutcome) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const uploads = new MessageUploads({ uploads: queue, logger: createSilentLogger() });
  const settlements: MessageSettlement[] = [];
  const open = () => uploads.open(async (settlement) => void settlements.push(settlement));
  return { uploads, listeners, settlements, open };
}

describe('MessageUploads', () => {
  it('answers once, after the last job, with the intake refusals and the queue rejections', async () => {
    const { uploads, settlements, open } = setUp();
    const message = open();
    message.queued('J1');
    message.refused('huge.png', new FindimageError('image_too_large', 'huge.png is 200 MB.'));
    message.queued('J2');
    await message.close();
    expect(settlements).toEqual([]);
    await uploads.receive(indexed('J1', 'a.png'));
    expect(settlements).toEqual([]);
    await uploads.receive(rejected('J2', 'broken.png'));
    expect(settlements).toHaveLength(1);
    expect(settlements[0]?.indexed).toBe(true);
    expect(settlements[0]?.failures.map((f) => [f.filename, f.error.message])).toEqual([
      ['huge.png', 'huge.png is 200 MB.'],
      ['broken.png', 'broken.png is damaged.'],
    ]);
  });

  it('does not answer early or twice when every queued job finishes before the intake closes', async () => {
    const { uploads, settlements, open } = setUp();
    const message = open();
    message.queued('J1');
    // The first image is indexed while the second is still downloading.
    await uploads.receive(indexed('J1', 'red.png'));
    message.queued('J2');
    await uploads.receive(indexed('J2', 'green.png'));
    expect(settlements).toEqual([]);
    await message.close();
    expect(settlements).toEqual([{ failures: [], indexed: true }]);
    await uploads.receive(indexed('J2', 'green.png'));
    expect(settlements).toHaveLength(1);
  });

  it('answers at close a message with nothing queued, with only its refusals', async () => {
    const { settlements, open } = setUp();
    const message = open();
    message.refused('notes.pdf', new FindimageError('image_unsupported', 'notes.pdf is not an image.'));
    await message.close();
    expect(settlements).toHaveLength(1);
    expect(settlements[0]).toMatchObject({ indexed: false, failures: [{ filename: 'notes.pdf' }] });
  });

  it('counts an upload withdrawn by a deletion neither as indexed nor as a failure', async () => {
    const { uploads, settlements, open } = setUp();
    const message = open();
    message.queued('J1');
    message.queued('J2');
    await message.close();
    await uploads.receive(withdrawn('J1', 'a.png'));
    await uploads.receive(withdrawn('J2', 'b.png'));
    expect(settlements).toEqual([{ failures: [], indexed: false }]);
  });

  it('gives a waiting caller its job outcome, and follows the queue only between start and stop', async () => {
    const { uploads, listeners, settlements, open } = setUp();
    const message = open();
    message.queued('J1');
    await message.close();
    const outcome = uploads.outcomeOf('J1');
    uploads.start();
    uploads.start();
    expect(listeners.size).toBe(1);
    for (const listener of listeners) listener(indexed('J1', 'a.png'));
    expect((await outcome).status).toBe('indexed');
    await expect.poll(() => settlements.length).toBe(1);
    uploads.stop();
    expect(listeners.size).toBe(0);
  });

  it('logs rather than throws when answering the uploader fails', async () => {
    const log = captureLog();
    const queue = { onOutcome: () => () => undefined };
    const uploads = new MessageUploads({ uploads: queue, logger: log.logger });
    const message = uploads.open(async () => {
      throw new Error('chat is down');
    });
    message.queued('J1');
    await message.close();
    await expect(uploads.receive(indexed('J1', 'a.png'))).resolves.toBeUndefined();
    expect(log.withMsg('could not report an upload outcome')).toHaveLength(1);
  });
});
