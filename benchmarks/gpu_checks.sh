#!/usr/bin/env bash
# Every GPU check of GalView in one run, for a lent device with JAX + CUDA but no Keras, Qt or astropy.
#
# Prepare on the development machine (both folders are git-ignored; pass them with `carry`):
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux_2_28_x86_64 \
#       --platform manylinux2014_x86_64 -d .whl keras namex optree typing_extensions absl-py rich \
#       markdown-it-py mdurl pygments
#   (Keras imports absl and rich, and optree typing_extensions, at import time: in a venv holding only numpy,
#   h5py, scipy, pytest and jax[cpu], `import keras` failed on each of those three in turn; the last three
#   wheels are rich's own dependencies.)
#   python - <<'EOF'   # 200 + 2,000 HSC-like simulations as .npz (galview simulate --survey hsc …)
#   import h5py, numpy as np
#   for name, path in [("hsc_train_200", "bench_data/hsc_sim_200_seed101.h5"),
#                      ("hsc_test_2000", "bench_data/hsc_sim_2000_seed202.h5")]:
#       with h5py.File(path) as f:
#           np.savez(f".gpudata/{name}.npz", images=f["images"][:], labels=f["labels"][:])
#   EOF
# Then on the device: `bash benchmarks/gpu_checks.sh` (about 3 minutes on an H200). Output goes to
# $OUT (or /tmp/gpu_out) as one log per check; the figures belong in BENCHMARKS.md, issue 12 §4 and §4b.
set -u
out="${OUT:-/tmp/gpu_out}"
mkdir -p "$out"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
export PYTHONPATH="/tmp/site:$PWD" KERAS_BACKEND="${KERAS_BACKEND:-jax}"
nvidia-smi --query-gpu=name,memory.total --format=csv > "$out/device.txt" 2>&1

run() {  # run NAME COMMAND…: one check, its log and exit status, never stopping the others
    local name="$1"
    shift
    echo "== $name: $*"
    timeout 240 "$@" > "$out/$name.log" 2>&1
    echo "   exit $? ($(tail -n 1 "$out/$name.log"))"
}

run epoch python3 benchmarks/gpu_train_epoch.py --n 30000
run finetune python3 benchmarks/gpu_finetune.py --train .gpudata/hsc_train_200.npz \
    --test .gpudata/hsc_test_2000.npz --modes probe,head,full --folds 5
run encoder python3 benchmarks/gpu_encoder.py .gpudata/hsc_test_2000.npz --n 2000 --epochs 3
run tests python3 -m pytest -q -c /dev/null --rootdir . -p no:cacheprovider \
    tests/ml/test_devices.py tests/ml/test_anchored_probe.py
