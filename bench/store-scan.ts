// The embedded store's own bench, kept under its old name for `npm run bench -- --all`; the same
// as `npm run bench -- store` (bench/store-bench.ts), which takes the same options.
// Run: node --import tsx bench/store-scan.ts [--vectors N[,N]] [--data clustered|uniform] [--json]
import { runStoreBench } from './store-bench.js';

process.exitCode = await runStoreBench(process.argv.slice(2));
