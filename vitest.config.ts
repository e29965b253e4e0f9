// Test runner settings: every *.test.ts beside the source and under test/. The end-to-end tests
// under test/e2e run the built binary, so their project first rebuilds dist/ if any source is
// newer (test/e2e/fresh-build.ts); a run without them never pays for a build.
import { configDefaults, defineConfig } from 'vitest/config';

const E2E = 'test/e2e/**/*.test.ts';

export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    // Two cores: ONNX sessions and sharp are CPU-bound, so a small pool keeps tests from starving.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, E2E],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: [E2E],
          globalSetup: ['test/e2e/fresh-build.ts'],
          // These start the real binary, which loads an ONNX model per process: a test that runs
          // three processes took 30 s on a loaded 2-core machine. A hang still fails, later.
          testTimeout: 90_000,
        },
      },
    ],
  },
});
