// Loaded with `node --import` into a findimage process by cold-start.e2e.test.ts: appends the URL
// of every module the process (and its worker threads, which inherit --import) resolves to the
// file named by FINDIMAGE_TEST_IMPORTS, so the test can tell which packages a command loaded.
// Node's resolve hook sees every ESM import, including the import of a CommonJS package's entry.
import { appendFileSync } from 'node:fs';
import * as nodeModule from 'node:module';

const record = (url) => {
  if (process.env.FINDIMAGE_TEST_IMPORTS) appendFileSync(process.env.FINDIMAGE_TEST_IMPORTS, url + '\n');
};

if (typeof nodeModule.registerHooks === 'function') {
  // Node 22.15 and later: in-thread hooks. Node 26 deprecates register() (DEP0205) and prints a
  // warning on stderr, which the tests read as the command's own output.
  nodeModule.registerHooks({
    resolve(specifier, context, next) {
      const resolved = next(specifier, context);
      record(resolved.url);
      return resolved;
    },
  });
} else {
  // Node 20: the off-thread hooks of module.register().
  const hook = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (process.env.FINDIMAGE_TEST_IMPORTS) appendFileSync(process.env.FINDIMAGE_TEST_IMPORTS, resolved.url + '\\n');
  return resolved;
}`;
  nodeModule.register(`data:text/javascript,${encodeURIComponent(hook)}`);
}
