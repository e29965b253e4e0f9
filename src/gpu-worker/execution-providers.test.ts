// Provider plans per device, and the session options each worker gets.
import { describe, expect, test } from 'vitest';
import { describeDevice, plansForThisHost, providerPlans, sessionOptions, threadsPerWorker } from './execution-providers.js';

describe('providerPlans', () => {
  test('auto tries CUDA device 0 (with the CPU for unsupported operators), then the CPU alone', () => {
    expect(providerPlans({ kind: 'auto' })).toEqual([
      { provider: 'cuda', executionProviders: [{ name: 'cuda', deviceId: 0 }, 'cpu'] },
      { provider: 'cpu', executionProviders: ['cpu'] },
    ]);
  });

  test('an explicit cuda:N has no CPU-only fallback plan', () => {
    expect(providerPlans({ kind: 'cuda', deviceId: 2 })).toEqual([
      { provider: 'cuda', executionProviders: [{ name: 'cuda', deviceId: 2 }, 'cpu'] },
    ]);
  });

  test('cpu uses the CPU provider only', () => {
    expect(providerPlans({ kind: 'cpu' })).toEqual([{ provider: 'cpu', executionProviders: ['cpu'] }]);
  });
});

describe('session options', () => {
  test('optimise the whole graph, give each session its share of the cores, and let idle threads sleep', () => {
    const [plan] = providerPlans({ kind: 'cpu' });
    expect(sessionOptions(plan!, 3)).toEqual({
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      intraOpNumThreads: 3,
      interOpNumThreads: 1,
      extra: { 'session.intra_op.allow_spinning': '0', 'session.inter_op.allow_spinning': '0' },
    });
  });

  test('divide the cores among workers, never below one thread', () => {
    expect(threadsPerWorker(2, 1)).toBe(2);
    expect(threadsPerWorker(16, 3)).toBe(5);
    expect(threadsPerWorker(2, 4)).toBe(1);
  });

  test('describe devices as the setting spells them', () => {
    expect([{ kind: 'auto' as const }, { kind: 'cpu' as const }, { kind: 'cuda' as const, deviceId: 1 }].map(describeDevice)).toEqual([
      'auto',
      'cpu',
      'cuda:1',
    ]);
  });

  test('auto skips the CUDA plan when the CUDA provider library is not installed, and says so', () => {
    const { plans, skippedReason } = plansForThisHost({ kind: 'auto' }, false);
    expect(plans.map((plan) => plan.provider)).toEqual(['cpu']);
    expect(skippedReason).toMatch(/CUDA execution provider is not installed/);
  });

  test('auto keeps the CUDA plan when the library is present, and cuda:N keeps it always', () => {
    expect(plansForThisHost({ kind: 'auto' }, true).plans.map((plan) => plan.provider)).toEqual(['cuda', 'cpu']);
    expect(plansForThisHost({ kind: 'cuda', deviceId: 1 }, false).plans.map((plan) => plan.provider)).toEqual(['cuda']);
  });
});
