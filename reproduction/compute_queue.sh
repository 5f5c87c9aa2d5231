#!/usr/bin/env bash
# The session's compute queue: issue 24's experiments first (BADGE b = 10 on TMLR Repeated-MNIST x4;
# EPIG vs BALD vs random on Repeated-MNIST x4 and class-imbalanced MNIST), then issue 26's figure
# sweep. Resumable: rerun after an interruption. nohup setsid nice -n 19 bash reproduction/compute_queue.sh &
set -euo pipefail
# setsid starts a new session, and with autogroup scheduling a session's share of the CPU ignores
# nice: lower the group's own priority so that benchmarks and tests run at full speed beside it.
echo 19 > /proc/self/autogroup 2> /dev/null || true
cd "$(dirname "$0")/.."
export BATCHBALD_DATA_DIR="${BATCHBALD_DATA_DIR:-$(cd .. && pwd)/shared/datasets}"
mkdir -p results
run() {
    local config=$1; shift
    .venv/bin/batchbald run "$config" --trials 3 --methods "$@" --out reproduction/runs --jobs 2 \
        --quiet >> results/compute_queue.log 2>&1
}
run configs/tmlr_repeated_mnist_x4.toml badge_b10
run configs/epig_repeated_mnist.toml epig_b10 bald_b10 random_b10
run configs/epig_imbalanced_mnist.toml epig_b10 bald_b10 random_b10
bash reproduction/sweep_figures.sh
