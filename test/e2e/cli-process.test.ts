// What the end-to-end tests count as a failure on a command's stderr: error lines, messages and
// stack traces, never the warnings a loaded machine may log (issue 16: cli-eval-dataset failed on
// a thread-priority warning when it required stderr to be empty).
import { describe, expect, it } from 'vitest';
import { failuresIn } from './cli-process.js';

describe('failuresIn', () => {
  it('lets warning and info log lines pass and reports every other line', () => {
    const warning = JSON.stringify({ level: 40, msg: 'image decoding may keep the default priority: searches may slow down while indexing' });
    const info = JSON.stringify({ level: 30, msg: 'vector store opened' });
    const errorLine = JSON.stringify({ level: 50, msg: 'could not save the search index' });
    const stderr = [warning, info, errorLine, 'findimage: Cannot reach Qdrant', 'TypeError: x is undefined', '    at main (dist/cli/main.js:1:1)', ''].join('\n');
    expect(failuresIn(stderr)).toEqual([errorLine, 'findimage: Cannot reach Qdrant', 'TypeError: x is undefined', '    at main (dist/cli/main.js:1:1)']);
    expect(failuresIn(`${warning}\n${info}\n`)).toEqual([]);
    expect(failuresIn('')).toEqual([]);
  });
});
