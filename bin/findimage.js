#!/usr/bin/env node
// The findimage command. The TypeScript sources are compiled to dist/ by `npm run build`
// (npm ci runs it through the prepare script).
import { exitQuietlyWhenOutputCloses } from '../dist/cli/closed-output.js';
import { main } from '../dist/cli/main.js';

// `findimage ... | head -1`: the reader leaving ends the process quietly, not with EPIPE's trace.
exitQuietlyWhenOutputCloses();
process.exitCode = await main(process.argv.slice(2));
