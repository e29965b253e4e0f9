#!/usr/bin/env bash
# Issue 11's GPU figures in one command: the real CUDA path (FINDIMAGE_DEVICE=cuda) on JPEG files
# from disk. Measures the vision tower's images/s at batches 1, 32 and 256 in fp32 and fp16 (the
# model alone and through findimage's pool), indexing 1-2 MP JPEGs end to end with decoding on
# every core, fp16 against fp32 through findimage (npm run bench -- fp16), search p99 while a bulk
# index runs against idle, and 12 MP photos end to end with the scaled JPEG decode against the
# full-size one (issue 18, `npm run bench -- index`). Writes $GPU_OUT (default .bench/gpu/) and
# prints a summary against the goals (docs/benchmarks.md, "GPU (issue 11)").
#
#   bench/gpu.sh             on a Linux machine with an NVIDIA GPU, CUDA 13 and cuDNN 9
#   bench/gpu.sh --dry-run   every step on the CPU with the tiny test model and small counts:
#                            checks the script anywhere, in about a minute
#   bench/gpu.sh --bundle    on a machine with Node and npm: packs Node, node_modules and the CUDA
#                            provider into .bench/gpu-bundle/part-* (50 MB each) for a GPU machine
#                            with neither; there, with the parts in $GPU_BUNDLE (default
#                            .bench/gpu-bundle), bench/gpu.sh unpacks them first
#
# Environment: GPU_NODE (node binary), GPU_PYTHON (Python with onnx and numpy), GPU_OUT,
# GPU_BUNDLE; FINDIMAGE_WORKERS and other FINDIMAGE_* settings pass through to the benches.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

MODE=run
case "${1:-}" in
  '') ;;
  --dry-run) MODE=dry ;;
  --bundle) MODE=bundle ;;
  -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "unknown option $1 (try --help)" >&2; exit 2 ;;
esac

# ONNX Runtime 1.29.0's CUDA 13 provider: keep onnxruntime-node at the same version (FACTS.md).
ORT_VERSION=1.29.0
PROVIDER_PACKAGE=com.github.asus4.onnxruntime.linux-x64-gpu
PROVIDER_VERSION=0.4.9
PROVIDER_LIBS=(libonnxruntime_providers_cuda.so libonnxruntime_providers_shared.so)
ORT_BIN=node_modules/onnxruntime-node/bin/napi-v6/linux/x64
GPU_ROOT=.bench/gpu-root
OUT=${GPU_OUT:-.bench/gpu}
BUNDLE=${GPU_BUNDLE:-.bench/gpu-bundle}
CORES=$(nproc)

say() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'bench/gpu.sh: %s\n' "$*" >&2; exit 1; }

# --bundle: everything a bare GPU machine needs that the repository does not hold.
if [ "$MODE" = bundle ]; then
  command -v node >/dev/null || die "--bundle needs node and npm on this machine"
  [ -d node_modules ] || die "--bundle needs node_modules: run npm ci first"
  staging=.bench/gpu-bundle-staging
  rm -rf "$staging" "$BUNDLE" && mkdir -p "$staging/$GPU_ROOT/node/bin" "$staging/$GPU_ROOT/cuda" "$BUNDLE"
  # The Node that built node_modules: better-sqlite3 is a native module tied to its ABI.
  cp "$(command -v node)" "$staging/$GPU_ROOT/node/bin/node"
  tarball=.bench/gpu/$PROVIDER_PACKAGE-$PROVIDER_VERSION.tgz
  if [ ! -f "$tarball" ]; then
    mkdir -p .bench/gpu && (cd .bench/gpu && npm pack "$PROVIDER_PACKAGE@$PROVIDER_VERSION" >/dev/null)
  fi
  for lib in "${PROVIDER_LIBS[@]}"; do
    tar -xzf "$tarball" -O "package/Plugins/Linux/x64/$lib" >"$staging/$GPU_ROOT/cuda/$lib"
  done
  say "packing (xz; a few minutes)"
  # Other platforms' ONNX Runtime builds and the browser, type-checking and test tools stay behind.
  tar -cf - \
    --exclude='node_modules/onnxruntime-node/bin/napi-v6/darwin' \
    --exclude='node_modules/onnxruntime-node/bin/napi-v6/win32' \
    --exclude='node_modules/onnxruntime-node/bin/napi-v6/linux/arm64' \
    --exclude='node_modules/playwright-core' --exclude='node_modules/typescript' \
    node_modules -C "$staging" "$GPU_ROOT" | xz -T0 -6 | split -b 50M - "$BUNDLE/part-"
  rm -rf "$staging"
  ls -l "$BUNDLE" >&2
  echo "Copy $BUNDLE/ to the GPU machine's checkout (or set GPU_BUNDLE there) and run bench/gpu.sh." >&2
  exit 0
fi

# A bundle made by --bundle, if node_modules or Node is missing here.
if { [ ! -d node_modules ] || ! command -v node >/dev/null; } && compgen -G "$BUNDLE/part-*" >/dev/null; then
  say "unpacking $BUNDLE"
  cat "$BUNDLE"/part-* | xz -d | tar -xf -
fi

NODE=${GPU_NODE:-}
if [ -z "$NODE" ]; then
  if [ -x "$GPU_ROOT/node/bin/node" ]; then NODE=$ROOT/$GPU_ROOT/node/bin/node
  elif command -v node >/dev/null; then NODE=$(command -v node)
  else die "no Node.js: set GPU_NODE, install Node 20, or bring a bundle (bench/gpu.sh --bundle)"
  fi
fi
"$NODE" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || die "$NODE is older than Node 20"
[ -d node_modules ] || die "no node_modules: run npm ci (ONNXRUNTIME_NODE_INSTALL=skip), or bring a bundle"
installed=$("$NODE" -p 'require("./node_modules/onnxruntime-node/package.json").version')
[ "$installed" = "$ORT_VERSION" ] || die "onnxruntime-node is $installed; the CUDA provider below is built for $ORT_VERSION"
export PATH="$(dirname "$NODE"):$PATH"

PYTHON=${GPU_PYTHON:-}
for candidate in "$PYTHON" /opt/torch/.venv/bin/python /usr/bin/python3 python3; do
  [ -n "$candidate" ] && "$candidate" -c 'import onnx, numpy' 2>/dev/null && PYTHON=$candidate && break
done
"$PYTHON" -c 'import onnx, numpy' 2>/dev/null || die "no Python with onnx and numpy: set GPU_PYTHON"

if [ "$MODE" = run ]; then
  DEVICE=cuda
  say "CUDA provider for ONNX Runtime $ORT_VERSION"
  for lib in "${PROVIDER_LIBS[@]}"; do
    [ -f "$ORT_BIN/$lib" ] && continue
    if [ -f "$GPU_ROOT/cuda/$lib" ]; then
      cp "$GPU_ROOT/cuda/$lib" "$ORT_BIN/"
    else
      tarball=.bench/gpu/$PROVIDER_PACKAGE-$PROVIDER_VERSION.tgz
      if [ ! -f "$tarball" ]; then
        mkdir -p .bench/gpu
        url=https://registry.npmjs.org/$PROVIDER_PACKAGE/-/$PROVIDER_PACKAGE-$PROVIDER_VERSION.tgz
        curl -fsSL "$url" -o "$tarball.partial" && mv "$tarball.partial" "$tarball" ||
          die "cannot fetch $url: put the package there (npm pack $PROVIDER_PACKAGE@$PROVIDER_VERSION) or use --bundle"
      fi
      tar -xzf "$tarball" -O "package/Plugins/Linux/x64/$lib" >"$ORT_BIN/$lib"
    fi
  done
  # CUDA and cuDNN: the system's, then any that pip installed beside torch (nvidia/*/lib).
  libs=/usr/local/cuda/lib64
  nvidia=$("$PYTHON" -c 'import nvidia, os; print(" ".join(os.path.join(p, d, "lib") for p in nvidia.__path__ for d in sorted(os.listdir(p))))' 2>/dev/null || true)
  for dir in $nvidia; do [ -d "$dir" ] && libs=$libs:$dir; done
  export LD_LIBRARY_PATH=$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >&2 || die "nvidia-smi failed: no GPU here?"
  FP32=.bench/models/vit-b32-random
  FP16=.bench/models/vit-b32-random-fp16
  BATCHES=1,32,256; SECONDS_PER_BATCH=5; POOL_IMAGES=4096; E2E_IMAGES=6000; PHOTOS=64
  VECTORS=10000; QUERIES=100; ROUNDS=3; FP16_IMAGES=512; FP16_TEXTS=512
else
  DEVICE=cpu
  say "dry run: CPU, tiny test model, small counts (no CUDA library is touched)"
  FP32=.bench/gpu-dry/tiny-fp32
  FP16=.bench/gpu-dry/tiny-fp16
  OUT=${GPU_OUT:-.bench/gpu-dry}
  BATCHES=1,8; SECONDS_PER_BATCH=1; POOL_IMAGES=64; E2E_IMAGES=48; PHOTOS=6
  VECTORS=1000; QUERIES=10; ROUNDS=1; FP16_IMAGES=8; FP16_TEXTS=16
fi
mkdir -p "$OUT"
export UV_THREADPOOL_SIZE=$CORES
IN_FLIGHT=$((4 * CORES))
run_node() { "$NODE" --import tsx "$@"; }
# A bench that fails is reported and the others still run: device time is scarce.
FAILED=()
failed() { FAILED+=("$1"); echo "bench/gpu.sh: $1 failed; going on with the other steps" >&2; }

say "models (fp32 at $FP32, fp16 at $FP16)"
if [ ! -f "$FP32/manifest.json" ]; then
  if [ "$MODE" = run ]; then "$PYTHON" bench/build-vit-b32-model.py --out "$FP32"
  else "$PYTHON" bench/gpu-fp16-model.py --src models/tiny-test --out "$FP32" --dtype float32
  fi
fi
[ -f "$FP16/manifest.json" ] || "$PYTHON" bench/gpu-fp16-model.py --src "$FP32" --out "$FP16"

say "$PHOTOS JPEGs of 1-2 MP in $OUT/photos"
run_node bench/gpu-photos.ts "$OUT/photos" "$PHOTOS"

say "the vision tower alone (ONNX Runtime, $DEVICE), batches $BATCHES"
: >"$OUT/model.jsonl"
for dir in "$FP32" "$FP16"; do
  run_node bench/gpu-model-throughput.ts --model-dir "$dir" --device "$DEVICE" --batches "$BATCHES" --seconds "$SECONDS_PER_BATCH" --json >>"$OUT/model.jsonl" ||
    failed "model only, $dir"
done

say "model only through findimage's pool, batches $BATCHES"
: >"$OUT/pool.jsonl"
for dir in "$FP32" "$FP16"; do
  run_node bench/pool-throughput.ts --model-dir "$dir" --device "$DEVICE" --batches "$BATCHES" --images "$POOL_IMAGES" \
    --workers "${FINDIMAGE_WORKERS:-1}" | sed "s#^{\"provider\"#{\"modelDir\":\"$dir\",\"provider\"#" >>"$OUT/pool.jsonl" ||
    failed "pool, $dir"
done

say "fp16 against fp32 through findimage ($DEVICE): $FP16_IMAGES images, $FP16_TEXTS texts, $ROUNDS rounds"
GPU_PYTHON=$PYTHON run_node bench/run.ts fp16 --device "$DEVICE" --fp32-dir "$FP32" --fp16-dir "$FP16" \
  --images "$FP16_IMAGES" --texts "$FP16_TEXTS" --rounds "$ROUNDS" --json >"$OUT/fp16.json" || failed "fp16 against fp32"

say "end to end: $E2E_IMAGES images, $IN_FLIGHT in flight, UV_THREADPOOL_SIZE=$CORES"
FINDIMAGE_DEVICE=$DEVICE run_node bench/gpu-end-to-end.ts --model-dir "$FP16" --photo-dir "$OUT/photos" \
  --images "$E2E_IMAGES" --in-flight "$IN_FLIGHT" --json >"$OUT/end-to-end.json" || failed "end to end"

say "search latency idle and under a bulk index ($IN_FLIGHT in flight), $VECTORS vectors"
FINDIMAGE_DEVICE=$DEVICE run_node bench/latency-under-load.ts --model-dir "$FP16" --photo-dir "$OUT/photos" \
  --photos "$PHOTOS" --vectors "$VECTORS" --queries "$QUERIES" --rounds "$ROUNDS" --in-flight "$IN_FLIGHT" --json >"$OUT/latency.json" ||
  failed "search latency"

# Issue 18: 12 MP phone photos, decoded at reduced scale and at full size, against the model alone.
if [ "$MODE" = run ]; then INDEX_ARGS=(--photos 16 --rounds 2); else INDEX_ARGS=(--quick); fi
say "12 MP JPEGs end to end (${INDEX_ARGS[*]}): scaled JPEG decode against full size, UV_THREADPOOL_SIZE=$CORES"
FINDIMAGE_DEVICE=$DEVICE run_node bench/run.ts index --json "${INDEX_ARGS[@]}" >"$OUT/index-12mp.json" ||
  failed "12 MP index"

say "summary"
run_node bench/gpu-summary.ts "$OUT" | tee "$OUT/summary.txt"
[ -s "$OUT/index-12mp.json" ] && echo "12 MP photos (issue 18): $(cat "$OUT/index-12mp.json")"
if [ ${#FAILED[@]} -gt 0 ]; then
  printf 'bench/gpu.sh: failed steps: %s\n' "${FAILED[*]}" >&2
  exit 1
fi
