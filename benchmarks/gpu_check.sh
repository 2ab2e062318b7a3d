#!/usr/bin/env bash
# The GPU check of the vectorized backend, for a session lent a CUDA machine (benchmarks/README.md).
# One short prepared run from the repository root (a few minutes): is CuPy there, does the CuPy path
# agree with the scalar search (tests/test_vectorized.py::test_gpu_search_agrees_with_cpu), and the
# benchmark with the vectorized backend on CPU (numpy) and GPU (CuPy) side by side.  Results go to $OUT.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-out/gpu}
mkdir -p "$OUT"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$OUT/gpu.txt"
if ! python -c "import cupy; print('cupy', cupy.__version__, cupy.cuda.runtime.getDeviceCount(), 'device(s)')" 2>&1 | tee -a "$OUT/gpu.txt"; then
    echo "CuPy is not importable here (pip install cupy-cuda12x): nothing to check" | tee -a "$OUT/gpu.txt"
    exit 2
fi
timeout 240 python -m pytest -q -p no:cacheprovider tests/test_vectorized.py -rs -k "gpu or random_models" 2>&1 | tee "$OUT/gpu_tests.txt"
timeout 300 python benchmarks/vs_spin.py --models twophase7 twophase8 replication hospital3 --runs vectorized gpu --repeat 2 \
    --json "$OUT/gpu_bench.json" 2>&1 | tee "$OUT/gpu_bench.txt"
