#!/usr/bin/env node
// The findimage command. The TypeScript sources are compiled to dist/ by `npm run build`
// (npm ci runs it through the prepare script).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
