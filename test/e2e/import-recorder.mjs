// Loaded with `node --import` into a findimage process by cold-start.e2e.test.ts: appends the URL
// of every module the process (and its worker threads, which inherit --import) resolves to the
// file named by FINDIMAGE_TEST_IMPORTS, so the test can tell which packages a command loaded.
// Node's resolve hook sees every ESM import, including the import of a CommonJS package's entry.
import { register } from 'node:module';

const hook = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (process.env.FINDIMAGE_TEST_IMPORTS) appendFileSync(process.env.FINDIMAGE_TEST_IMPORTS, resolved.url + '\\n');
  return resolved;
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
