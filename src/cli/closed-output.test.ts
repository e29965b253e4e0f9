// Specification of what happens when the reader of findimage's output goes away: EPIPE ends the
// process at once, with no message, with 141 (128 + SIGPIPE) as a Unix tool killed by SIGPIPE
// reports, so a cut-off run does not read as success; any other stream error still surfaces.
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { EXIT_OUTPUT_CLOSED, exitQuietlyWhenOutputCloses } from './closed-output.js';

function streamError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`write ${code}`), { code });
}

describe('exitQuietlyWhenOutputCloses', () => {
  it('exits with 141 when stdout or stderr is closed by its reader (EPIPE)', () => {
    const stdout = new EventEmitter();
    const stderr = new EventEmitter();
    const exit = vi.fn();
    exitQuietlyWhenOutputCloses({ streams: [stdout, stderr], exit });
    stdout.emit('error', streamError('EPIPE'));
    stderr.emit('error', streamError('EPIPE'));
    expect(EXIT_OUTPUT_CLOSED).toBe(141);
    expect(exit.mock.calls).toEqual([[141], [141]]);
  });

  it('lets any other error on the streams end the process as before', () => {
    const stdout = new EventEmitter();
    const exit = vi.fn();
    exitQuietlyWhenOutputCloses({ streams: [stdout], exit });
    expect(() => stdout.emit('error', streamError('EIO'))).toThrow('write EIO');
    expect(exit).not.toHaveBeenCalled();
  });
});
