# faiss IVF-Flat on the store bench's own vectors, for `npm run bench -- store-peers` (bench/store-peers.ts).
# Reads DIR/vectors.f32 (N x D float32), DIR/queries.f32 (Q x D), DIR/channel.u8 (N bytes, 1 for
# the rows of the one-channel filter); prints one JSON object. The nlist is sqrt(N) as faiss's
# guidelines suggest; nprobe is the smallest of a doubling-ish ladder reaching recall@10 0.99
# against a brute-force float32 scan. Inner product on unit vectors (the store's cosine).
import json
import sys
import time

import faiss
import numpy as np

K = 10
TARGET_RECALL = 0.99
NPROBES = [8, 16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024]


# Queries whose exact answers are computed together.
TRUTH_CHUNK = 16


def top_k(scores):
    """The indices of each row's K largest scores, best first."""
    part = np.argpartition(-scores, K, axis=1)[:, :K]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1)
    return np.take_along_axis(part, order, axis=1).tolist()


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(np.ceil(p / 100 * len(ordered))) - 1))]


def recall(found, truth):
    total = 0.0
    for f, t in zip(found, truth):
        t = [x for x in t if x >= 0]
        total += 1.0 if not t else len(set(f) & set(t)) / len(t)
    return total / len(truth)


def timed(search, queries):
    ids, times = [], []
    for q in queries:
        started = time.perf_counter()
        _, found = search(q[None, :])
        times.append((time.perf_counter() - started) * 1000)
        ids.append([int(x) for x in found[0] if x >= 0])
    return ids, times


def main(folder, dimension):
    vectors = np.fromfile(f"{folder}/vectors.f32", dtype=np.float32).reshape(-1, dimension)
    queries = np.fromfile(f"{folder}/queries.f32", dtype=np.float32).reshape(-1, dimension)
    channel = np.fromfile(f"{folder}/channel.u8", dtype=np.uint8).astype(bool)
    n = len(vectors)
    truth, truth_channel = [], []
    # A few queries at a time: all 200 x 1M scores at once would take gigabytes.
    for first in range(0, len(queries), TRUTH_CHUNK):
        scores = queries[first:first + TRUTH_CHUNK] @ vectors.T
        truth += top_k(scores)
        truth_channel += top_k(np.where(channel[None, :], scores, -np.inf))

    nlist = max(8, int(round(np.sqrt(n))))
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFFlat(quantizer, dimension, nlist, faiss.METRIC_INNER_PRODUCT)
    started = time.perf_counter()
    index.train(vectors)
    index.add(vectors)
    build_s = time.perf_counter() - started

    chosen = None
    for nprobe in [p for p in NPROBES if p <= nlist] + [nlist]:
        index.nprobe = nprobe
        plain = lambda q: index.search(q, K)
        timed(plain, queries[:10])
        ids, times = timed(plain, queries)
        r = recall(ids, truth)
        chosen = {"nprobe": nprobe, "recallAt10": r, "p50Ms": percentile(times, 50), "p99Ms": percentile(times, 99)}
        if r >= TARGET_RECALL:
            break

    bitmap = np.packbits(channel, bitorder="little")
    selector = faiss.IDSelectorBitmap(n, faiss.swig_ptr(bitmap))
    params = faiss.SearchParametersIVF(sel=selector, nprobe=chosen["nprobe"])
    search = lambda q: index.search(q, K, params=params)
    timed(search, queries[:50])
    ids, times = timed(search, queries)
    print(json.dumps({
        "vectors": n,
        "nlist": nlist,
        "buildS": build_s,
        **chosen,
        "filteredP50Ms": percentile(times, 50),
        "filteredRecallAt10": recall(ids, truth_channel),
        "channelRows": int(channel.sum()),
        "threads": faiss.omp_get_max_threads(),
        "faiss": faiss.__version__,
    }))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
