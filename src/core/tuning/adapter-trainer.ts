// Learns a QueryAdapter: W starts at the identity and is moved, by Adam on a softmax
// (contrastive) loss, so that each training query's adapted vector scores its relevant images
// above the other images, while a penalty lambda * ||W - I||^2 keeps it near changing nothing.
// Plain Float32Array arithmetic, batched, seeded: the same examples and seed give the same W.
import { seededRandom } from '../seeded-random.js';
import { multiply, QueryAdapter } from './query-adapter.js';

/** One query to learn from. */
export interface TrainingQuery {
  /** The query's unit vector, as the model embeds it (no adapter). */
  vector: Float32Array;
  /** Indices into TrainingSet.images of what it should find; a query without any is not trained on. */
  positives: readonly number[];
  /** Indices of images judged wrong for it (thumbs-down): always among its candidates. */
  negatives: readonly number[];
}

export interface TrainingSet {
  /** The model the vectors come from. */
  modelId: string;
  /** Vector length d. */
  dimension: number;
  /** Unit image vectors; every image is a candidate for every query (sampled when there are many). */
  images: readonly Float32Array[];
  queries: readonly TrainingQuery[];
}

export interface TrainerOptions {
  /** Seed of the shuffles and samples. */
  seed: number;
  /** Most passes over the training queries (default MAX_EPOCHS). */
  epochs?: number;
  /** Weight of ||W - I||^2 (default REGULARISATION). */
  regularisation?: number;
  /** Adam's step size (default LEARNING_RATE). */
  learningRate?: number;
  /** Told after each epoch. */
  onEpoch?: (progress: EpochProgress) => void;
}

/** How one epoch went. */
export interface EpochProgress {
  /** 1-based. */
  epoch: number;
  /** Mean training loss over the epoch's batches (the penalty included). */
  trainingLoss: number;
  /** Loss on the validation slice; undefined when there is none. */
  validationLoss: number | undefined;
}

export interface TrainingResult {
  /** W at the epoch of lowest validation loss (the last epoch without a validation slice). */
  adapter: QueryAdapter;
  /** Each epoch run. */
  epochs: EpochProgress[];
  /** The epoch whose W was kept (0: the identity was never beaten on validation). */
  bestEpoch: number;
  /** Whether training stopped before the budget because validation loss stopped falling markedly. */
  stoppedEarly: boolean;
  /** Queries trained on and held for validation (those with at least one positive). */
  trainingQueries: number;
  validationQueries: number;
}

/**
 * Passes over the training queries at most. At d = 512 an epoch costs about 2 x queries x 512^2
 * multiply-adds for W q and its gradient, plus the candidates' scores: about 3 s of CPU for 1,440
 * queries (docs/benchmarks.md), so the budget stays within minutes; early stopping usually ends a
 * run after a handful of epochs.
 */
export const MAX_EPOCHS = 30;
/** Queries per gradient step: enough to average out single captions, small enough for many steps per epoch. */
export const BATCH_SIZE = 32;
/** Adam's step size; W's entries are of order 1/sqrt(d) off the diagonal, so steps of 1e-3 move it in a few epochs. */
export const LEARNING_RATE = 2e-3;
/**
 * Weight of ||W - I||_F^2 against the mean loss per query. Small: it only keeps W from wandering
 * where the data says nothing; early stopping on validation does the rest of the restraint.
 */
export const REGULARISATION = 1e-4;
/**
 * Softmax temperature over cosine scores. CLIP learns a logit scale of 100 (0.01); a little softer
 * gives useful gradients to images that are not yet in the top few.
 */
export const TEMPERATURE = 0.05;
/**
 * Images scored per batch at most (the batch's own positives and negatives, then a seeded sample).
 * Scoring them and their share of the gradient cost 2 x 256 x d per query, as much as W q and its
 * gradient together at d = 512; a few hundred negatives are what contrastive training needs.
 */
export const MAX_CANDIDATES = 256;
/** A candidate whose share of the gradient is below this is skipped: it changes W by less than float32 can hold. */
const NEGLIGIBLE = 1e-7;
/** Share of the training queries kept aside to decide when to stop. */
export const VALIDATION_SHARE = 0.1;
/** Below this many trainable queries no validation slice is taken: it would be a coin toss. */
export const MIN_QUERIES_FOR_VALIDATION = 20;
/** Epochs without a markedly lower validation loss before training stops. */
export const PATIENCE = 3;
/**
 * A validation loss counts as markedly lower when it is below the last one that did by at least
 * 1% of the loss at the identity: once it creeps towards zero by less, more epochs buy nothing on
 * held-out questions (seen on the rotated-captions bench: R@1 was 1.0 long before the loss
 * stopped moving).
 */
export const MIN_IMPROVEMENT = 0.01;

const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;

export function trainAdapter(set: TrainingSet, options: TrainerOptions): TrainingResult {
  const d = set.dimension;
  for (const v of set.images) if (v.length !== d) throw new RangeError(`an image vector has ${v.length} floats, not ${d}`);
  for (const q of set.queries) if (q.vector.length !== d) throw new RangeError(`a query vector has ${q.vector.length} floats, not ${d}`);
  const random = seededRandom(options.seed);
  const usable = set.queries.filter((q) => q.positives.length > 0);
  const order = shuffled(usable.length, random);
  const validationCount = usable.length >= MIN_QUERIES_FOR_VALIDATION ? Math.max(1, Math.round(usable.length * VALIDATION_SHARE)) : 0;
  const validation = order.slice(0, validationCount).map((i) => usable[i] as TrainingQuery);
  const training = order.slice(validationCount).map((i) => usable[i] as TrainingQuery);
  const lambda = options.regularisation ?? REGULARISATION;
  const rate = options.learningRate ?? LEARNING_RATE;
  const maxEpochs = options.epochs ?? MAX_EPOCHS;

  const weights = QueryAdapter.identity(set.modelId, d).weights;
  const gradient = new Float32Array(d * d);
  const moment1 = new Float32Array(d * d);
  const moment2 = new Float32Array(d * d);
  let step = 0;
  // Validation always scores the same candidates, so its losses compare across epochs.
  const validationCandidates = candidatesFor(validation, set.images.length, random);
  let best = { loss: validation.length === 0 ? Infinity : batchLoss(weights, set, validation, validationCandidates, lambda, undefined), weights: weights.slice(), epoch: 0 };
  const epochs: EpochProgress[] = [];
  let stoppedEarly = false;
  const initialLoss = best.loss;
  let marked = { loss: best.loss, epoch: 0 };
  for (let epoch = 1; epoch <= maxEpochs && training.length > 0; epoch++) {
    const batches = shuffled(training.length, random);
    let lossSum = 0;
    let batchCount = 0;
    for (let start = 0; start < batches.length; start += BATCH_SIZE) {
      const batch = batches.slice(start, start + BATCH_SIZE).map((i) => training[i] as TrainingQuery);
      gradient.fill(0);
      lossSum += batchLoss(weights, set, batch, candidatesFor(batch, set.images.length, random), lambda, gradient);
      batchCount++;
      step++;
      adamStep(weights, gradient, moment1, moment2, step, rate);
    }
    const trainingLoss = lossSum / batchCount;
    const validationLoss = validation.length === 0 ? undefined : batchLoss(weights, set, validation, validationCandidates, lambda, undefined);
    const progress: EpochProgress = { epoch, trainingLoss, validationLoss };
    epochs.push(progress);
    options.onEpoch?.(progress);
    if (validationLoss === undefined) {
      best = { loss: trainingLoss, weights: weights.slice(), epoch };
    } else {
      if (validationLoss < best.loss) best = { loss: validationLoss, weights: weights.slice(), epoch };
      if (validationLoss < marked.loss - MIN_IMPROVEMENT * initialLoss) marked = { loss: validationLoss, epoch };
      if (epoch - marked.epoch >= PATIENCE && epoch < maxEpochs) {
        stoppedEarly = true;
        break;
      }
    }
  }
  return {
    adapter: new QueryAdapter({ modelId: set.modelId, dimension: d, weights: best.weights }),
    epochs,
    bestEpoch: best.epoch,
    stoppedEarly,
    trainingQueries: training.length,
    validationQueries: validation.length,
  };
}

/**
 * The images a batch is scored against: every image when they fit MAX_CANDIDATES, else the
 * batch's positives and negatives plus a seeded sample of the others.
 */
function candidatesFor(batch: readonly TrainingQuery[], imageCount: number, random: () => number): number[] {
  if (imageCount <= MAX_CANDIDATES) return Array.from({ length: imageCount }, (_, i) => i);
  const chosen = new Set<number>();
  for (const q of batch) for (const i of [...q.positives, ...q.negatives]) chosen.add(i);
  while (chosen.size < MAX_CANDIDATES) chosen.add(Math.floor(random() * imageCount));
  return [...chosen];
}

/**
 * Mean over the batch of -log(sum of softmax over its positives), the softmax over the candidates'
 * cosines / TEMPERATURE, plus lambda ||W - I||^2. With `gradient`, adds d(loss)/dW into it.
 */
function batchLoss(
  weights: Float32Array,
  set: TrainingSet,
  batch: readonly TrainingQuery[],
  candidates: readonly number[],
  lambda: number,
  gradient: Float32Array | undefined,
): number {
  const d = set.dimension;
  const z = new Float32Array(d);
  const g = new Float32Array(d);
  const dz = new Float32Array(d);
  const scores = new Float64Array(candidates.length);
  let loss = 0;
  for (const query of batch) {
    multiply(weights, query.vector, d, z);
    let norm = 0;
    for (let r = 0; r < d; r++) norm += (z[r] as number) ** 2;
    norm = Math.sqrt(norm) || 1;
    // Every candidate's logit, and the softmax over all of them and over the positives alone.
    let max = -Infinity;
    candidates.forEach((image, c) => {
      const v = set.images[image] as Float32Array;
      let s = 0;
      for (let k = 0; k < d; k++) s += (z[k] as number) * (v[k] as number);
      scores[c] = s / norm / TEMPERATURE;
      if ((scores[c] as number) > max) max = scores[c] as number;
    });
    const positive = new Set(query.positives);
    let all = 0;
    let pos = 0;
    for (let c = 0; c < candidates.length; c++) {
      const e = Math.exp((scores[c] as number) - max);
      all += e;
      if (positive.has(candidates[c] as number)) pos += e;
    }
    loss += Math.log(all) - Math.log(pos);
    if (gradient === undefined) continue;
    // d(loss)/d(u) = (1/T) sum over candidates of (softmax_all - softmax_positives) v.
    g.fill(0);
    for (let c = 0; c < candidates.length; c++) {
      const e = Math.exp((scores[c] as number) - max);
      const coefficient = (e / all - (positive.has(candidates[c] as number) ? e / pos : 0)) / TEMPERATURE;
      if (Math.abs(coefficient) < NEGLIGIBLE) continue;
      const v = set.images[candidates[c] as number] as Float32Array;
      for (let k = 0; k < d; k++) g[k] = (g[k] as number) + coefficient * (v[k] as number);
    }
    // Through u = z / |z|: d/dz = (g - (g.u) u) / |z|; then d/dW = (d/dz) q^T, averaged over the batch.
    let gu = 0;
    for (let k = 0; k < d; k++) gu += (g[k] as number) * ((z[k] as number) / norm);
    for (let k = 0; k < d; k++) dz[k] = ((g[k] as number) - gu * ((z[k] as number) / norm)) / norm / batch.length;
    const q = query.vector;
    for (let r = 0; r < d; r++) {
      const coefficient = dz[r] as number;
      if (coefficient === 0) continue;
      const row = r * d;
      for (let k = 0; k < d; k++) gradient[row + k] = (gradient[row + k] as number) + coefficient * (q[k] as number);
    }
  }
  let penalty = 0;
  for (let r = 0; r < d; r++) {
    for (let k = 0; k < d; k++) {
      const i = r * d + k;
      const delta = (weights[i] as number) - (r === k ? 1 : 0);
      penalty += delta * delta;
      if (gradient !== undefined) gradient[i] = (gradient[i] as number) + 2 * lambda * delta;
    }
  }
  return loss / Math.max(1, batch.length) + lambda * penalty;
}

function adamStep(weights: Float32Array, gradient: Float32Array, m: Float32Array, v: Float32Array, step: number, rate: number): void {
  const correction1 = 1 - ADAM.beta1 ** step;
  const correction2 = 1 - ADAM.beta2 ** step;
  for (let i = 0; i < weights.length; i++) {
    const g = gradient[i] as number;
    const mi = ADAM.beta1 * (m[i] as number) + (1 - ADAM.beta1) * g;
    const vi = ADAM.beta2 * (v[i] as number) + (1 - ADAM.beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    weights[i] = (weights[i] as number) - (rate * (mi / correction1)) / (Math.sqrt(vi / correction2) + ADAM.epsilon);
  }
}

/** 0..n-1 in a seeded random order (Fisher-Yates). */
function shuffled(n: number, random: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}
