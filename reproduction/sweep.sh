#!/usr/bin/env bash
# The issue-6 sweep, in the issue's order: step 1 (MNIST), step 2 (Repeated-MNIST x3), step 3
# (the report's comparison on a pool subsample), the check that the subsample does not change
# step 2's conclusions, step 4 (TMLR Repeated-MNIST x4). 3 trials per configuration; only the
# methods the issue names. Resumable: run it again after an interruption and it continues every
# unfinished trial from its last step.
# Usage: bash reproduction/sweep.sh   (in the background: nohup setsid bash reproduction/sweep.sh &)
set -euo pipefail
cd "$(dirname "$0")/.."
export BATCHBALD_DATA_DIR="${BATCHBALD_DATA_DIR:-$(cd .. && pwd)/shared/datasets}"
mkdir -p results
exec .venv/bin/batchbald run \
    configs/mnist_b10.toml configs/repeated_mnist.toml configs/report_repeated_mnist_x2_small.toml \
    configs/repeated_mnist_small.toml configs/tmlr_repeated_mnist_x4.toml \
    --trials 3 \
    --methods batchbald_b10 bald_b10 random_b5 power_bald_b10 random_b10 \
    batch_evaluation_bald_b10 power_evaluation_bald_b10 \
    --out reproduction/runs --jobs 2 --quiet >> results/sweep.log 2>&1
