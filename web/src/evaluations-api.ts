// The page's calls to the "Evaluate models" API (docs/web.md): what can be evaluated, starting,
// following, cancelling, opening and deleting dataset evaluations.
import { call } from './api.js';

/** A metric with its 95% bootstrap interval. */
export interface MetricEstimate {
  name: string;
  estimate: { value: number; low: number; high: number };
}

export interface ScoreHistogram {
  min: number;
  max: number;
  counts: number[];
}

/** One model with one template set, graded. */
export interface RunSummary {
  model: string;
  templates: string[];
  label: string;
  queriesPerSecond: number;
  textToImage: MetricEstimate[];
  imageToText: MetricEstimate[];
  scores: { relevant: ScoreHistogram; irrelevant: ScoreHistogram };
  feedback?: { heldOut: number; withLabels: number; window: number; plain: MetricEstimate[]; withFeedback?: MetricEstimate[] };
}

export interface EvaluationReport {
  images: number;
  queries: number;
  ks: number[];
  seed: number;
  indexing: Array<{ model: string; imagesPerSecond: number; skipped: Array<{ image: string; reason: string }> }>;
  notes: string[];
  runs: RunSummary[];
  disagreements: Array<{ query: string; wanted: string; runs: Array<{ rank: number; top: string }> }>;
}

export interface EvaluationRequest {
  dataset: string;
  models: string[];
  templates: string[][];
  ks: number[];
  split?: number;
  seed?: number;
}

export interface EvaluationProgress {
  label: string;
  step: number;
  steps: number;
  done: number;
  total: number;
}

export interface EvaluationRecord {
  id: string;
  request: EvaluationRequest;
  state: 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';
  startedAt: string;
  finishedAt?: string;
  progress?: EvaluationProgress;
  error?: { code: string; message: string };
  report?: EvaluationReport;
}

export interface EvaluationOptions {
  datasetsRoot: string;
  datasets: Array<{ name: string; images: number }>;
  models: Array<{ id: string; description: string; onThisMachine: boolean; configured: boolean }>;
  defaults: { templates: string[][]; ks: number[]; seed: number };
  limits: { models: number; templateSets: number; ks: number };
}

export function options(): Promise<EvaluationOptions> {
  return call('/api/evaluations/options');
}

export function list(): Promise<{ current: EvaluationRecord | null; runs: EvaluationRecord[] }> {
  return call('/api/evaluations');
}

export function get(id: string): Promise<EvaluationRecord> {
  return call(`/api/evaluations/${encodeURIComponent(id)}`);
}

export function start(request: EvaluationRequest): Promise<EvaluationRecord> {
  return call('/api/evaluations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
}

export function cancel(id: string): Promise<EvaluationRecord> {
  return call(`/api/evaluations/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
}

export function remove(id: string): Promise<void> {
  return call(`/api/evaluations/${encodeURIComponent(id)}`, { method: 'DELETE' });
}
