#!/usr/bin/env bash
# One-shot check on a machine WITH a CUDA GPU, most valuable step first, under one deadline:
#   1. the training benchmark, v3 (im2col + tiled128 GEMM) beside PyTorch (float32, TF32 off)
#   2. the training benchmark, v2 (im2col + tiled GEMM)
#   3. the CUDA tests on the device (larger shapes), tests/test_train_cuda.py included; the
#      run refuses to fall back to the simulator (ALEXNET_NP_REQUIRE_GPU=1)
#   4. every kernel file's self-check + timing, in one process (GEMM GFLOP/s beside cuBLAS)
#   5. the training benchmark, v1 (naive kernels), on a smaller batch: it is slow
# Usage (from the repository root):  bash alexnet_np/cuda/device_check.sh [RESULTS_DIR]
# Results land in RESULTS_DIR (default: $OUT if set, else ./cuda_results), at most 8 files,
# written as each step goes: a step killed by the deadline still leaves its output and its
# exit code (124/130/137) in steps.txt. DEADLINE_S (default 420) bounds the whole script.
# WHEELS=DIR installs the wheels in DIR first (offline, into a temporary folder put first on
# PYTHONPATH): e.g. numpy 2.4, when the machine's numpy 2.5 breaks numba-cuda 0.30 (which
# still refers to np.row_stack, removed in numpy 2.5).
set -u
PY=${PYTHON:-$(command -v python3 || command -v python)}
DIR=${1:-${OUT:-cuda_results}}
mkdir -p "$DIR"
END=$((SECONDS + ${DEADLINE_S:-420}))
if [ -n "${WHEELS:-}" ]; then
  SITE=$(mktemp -d)
  $PY -m pip install -q --no-index --no-deps --target "$SITE" "$WHEELS"/*.whl > "$DIR/steps.txt" 2>&1
  export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONUNBUFFERED=1 NUMBA_ENABLE_CUDASIM=0 ALEXNET_NP_REQUIRE_GPU=1
# libNVVM: numba looks in CUDA_HOME (and the NVIDIA wheels); point it at a toolkit if unset
if [ -z "${CUDA_HOME:-}" ]; then
  for d in /usr/local/cuda /usr/local/cuda-13* /usr/local/cuda-12* /opt/cuda; do
    if [ -d "$d/nvvm" ]; then export CUDA_HOME=$d; break; fi
  done
fi

# step NAME LIMIT_S OUTFILE CMD...: run CMD with at most LIMIT_S seconds (and never past the
# deadline), SIGINT first so Python prints what it has, SIGKILL 10 s later; log the exit code.
step() {
  local name=$1 limit=$2 out=$3; shift 3
  case ",${STEPS:-all}," in *",$name,"*|",all,") ;; *) return ;; esac  # STEPS=a,b: only those
  local left=$((END - SECONDS))
  if [ "$left" -lt 15 ]; then echo "$name skipped (deadline)" >> "$DIR/steps.txt"; return; fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo "== $name (limit ${limit}s) $(date -u +%T)" >> "$DIR/$out"
  local t0=$SECONDS
  timeout -s INT -k 10 "$limit" "$@" >> "$DIR/$out" 2>&1
  local rc=$?
  echo "$name rc=$rc ${limit}s-limit $((SECONDS - t0))s" | tee -a "$DIR/steps.txt"
}

{ nvidia-smi; nvidia-smi --query-gpu=name,clocks.max.sm,clocks.sm,driver_version --format=csv
  echo "python $PY  CUDA_HOME=${CUDA_HOME:-unset}"
  $PY -c "import numba, numpy; print('numba', numba.__version__, 'numpy', numpy.__version__)"
  $PY -c "import numba_cuda; print('numba-cuda', numba_cuda.__version__)"
  $PY -c "import torch; print('torch', torch.__version__, torch.version.cuda)"
  $PY -c "from numba import cuda; cuda.detect()"; } > "$DIR/env.txt" 2>&1

B="-m alexnet_np.cuda.bench --arch paper --batch-size 128"
step bench_v3 120 bench_v3.txt $PY $B --steps 10 --gemm tiled128 --json "$DIR/bench_v3.json"
step bench_v2 60 bench_v2_v1.txt $PY $B --steps 5 --gemm tiled --no-torch
step tests 120 tests.txt $PY -m pytest tests/test_cuda_gemm.py tests/test_cuda_conv2d.py \
  tests/test_cuda_stepper.py tests/test_train_cuda.py tests/test_cuda_pointwise.py \
  tests/test_cuda_lrn.py tests/test_cuda_maxpool2d.py tests/test_cuda_common.py -q \
  --durations=8
step kernels 90 kernels.txt $PY -c "
import importlib, sys, traceback
failed = []
for m in ['gemm', 'conv2d', 'linear', 'maxpool2d', 'lrn', 'relu', 'dropout', 'softmax_xent',
          'reduce', 'sgd']:
    print('==', m, flush=True)
    try:
        importlib.import_module('alexnet_np.cuda.' + m)._main()
    except Exception:
        traceback.print_exc()
        failed.append(m)
print('failed:', failed)
sys.exit(1 if failed else 0)
"
step bench_v1 60 bench_v2_v1.txt $PY -m alexnet_np.cuda.bench --arch paper --batch-size 32 \
  --steps 1 --conv naive --gemm naive --no-torch
echo "--- summary"; cat "$DIR/steps.txt"; tail -n 4 "$DIR/bench_v3.txt" 2>/dev/null
