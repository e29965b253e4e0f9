// The narrower benches other parts of findimage keep beside this one (the store's scan, the pool's
// throughput, the Qdrant adapter's overhead, the Slack search flow before and after issue 7), run
// one after another with their own defaults by
// `npm run bench -- --all`. Each prints its own figures; see docs/benchmarks.md.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Scripts under bench/, in the order they run. */
export const COMPANION_BENCHES = ['store-scan.ts', 'pool-throughput.ts', 'qdrant-adapter.ts', 'slack-search.ts'] as const;

/** Runs each companion bench that exists in a child process; resolves to the scripts that failed. */
export async function runCompanionBenches(root: string, log: (line: string) => void): Promise<string[]> {
  const failed: string[] = [];
  for (const script of COMPANION_BENCHES) {
    const path = join(root, 'bench', script);
    if (!existsSync(path)) {
      log(`(bench/${script} is not there; skipped)`);
      continue;
    }
    log(`\n=== node --import tsx bench/${script}`);
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path], { cwd: root, stdio: 'inherit' });
      child.on('error', () => resolve(null));
      child.on('exit', (exitCode) => resolve(exitCode));
    });
    if (code !== 0) failed.push(script);
  }
  return failed;
}
