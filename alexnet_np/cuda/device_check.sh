#!/usr/bin/env bash
# One-shot check on a machine WITH a CUDA GPU: the CUDA tests on the device (larger shapes),
# every kernel file's self-check + timing, and the benchmark with the PyTorch comparison.
# Usage (from the repository root):  bash alexnet_np/cuda/device_check.sh [RESULTS_DIR]
# Results land in RESULTS_DIR (default: $OUT if set, else ./cuda_results). Takes a few minutes.
set -u
PY=${PYTHON:-python}
DIR=${1:-${OUT:-cuda_results}}
mkdir -p "$DIR"
unset NUMBA_ENABLE_CUDASIM
{ nvidia-smi; $PY -c "import numba, numpy; print('numba', numba.__version__, 'numpy', numpy.__version__)"; \
  $PY -c "import torch; print('torch', torch.__version__, torch.version.cuda)" || true; } \
  > "$DIR/env.txt" 2>&1
timeout 300 $PY -m pytest tests/test_cuda_*.py -q --durations=10 > "$DIR/tests.txt" 2>&1
echo "tests rc=$?" >> "$DIR/tests.txt"
for m in gemm conv2d maxpool2d lrn relu dropout linear softmax_xent reduce sgd; do
  echo "== $m" >> "$DIR/kernels.txt"
  timeout 120 $PY -m alexnet_np.cuda.$m >> "$DIR/kernels.txt" 2>&1 || echo "rc=$?" >> "$DIR/kernels.txt"
done
timeout 240 $PY -m alexnet_np.cuda.bench --arch paper --batch-size 128 --steps 10 \
  --json "$DIR/bench_gemm.json" > "$DIR/bench_gemm.txt" 2>&1
timeout 240 $PY -m alexnet_np.cuda.bench --arch paper --batch-size 128 --steps 3 --no-torch \
  --conv naive --gemm naive --json "$DIR/bench_naive.json" > "$DIR/bench_naive.txt" 2>&1
tail -n 3 "$DIR"/*.txt
