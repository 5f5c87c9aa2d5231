#!/usr/bin/env bash
# Issue 26: the papers' remaining figure rows, 3 trials each, in the order a reader most wants them:
#   1. report Figs. 4-5 at b = 50, then b = 20 (PowerBALD, PowerEvaluationBALD, PowerEIG,
#      ThompsonBALD, UniformTopBALD; Repeated-MNIST x2 on the 15k-image pool of step 3)
#   2. BatchBALD Table 1 / Fig. 4: BatchBALD b = 40 and b = 5 (MNIST, k = 100)
#   3. report Fig. 2 and Figs. 4-5 at b = 10: EvaluationBALD, PowerEIG, ThompsonBALD, UniformTopBALD
#   4. BatchBALD Fig. 10: variation ratios and mean std (Repeated-MNIST x3)
#   5. report Figs. 4-5 at b = 5
#   6. BatchBALD Table 1: BALD b = 1 (up to 280 steps per trial)
# Resumable: run it again after an interruption and every unfinished trial continues from its last
# finished step. In the background: nohup setsid bash reproduction/sweep_figures.sh &
# (log: results/sweep_figures.log). Stop: pkill -TERM -f "batchbald run".
set -euo pipefail
cd "$(dirname "$0")/.."
export BATCHBALD_DATA_DIR="${BATCHBALD_DATA_DIR:-$(cd .. && pwd)/shared/datasets}"
mkdir -p results
report=configs/report_repeated_mnist_x2_small.toml
stochastic() { for m in power_bald power_evaluation_bald power_eig thompson_bald uniform_top_bald; do echo "${m}_b$1"; done; }
run() {
    local config=$1; shift
    .venv/bin/batchbald run "$config" --trials 3 --methods "$@" --out reproduction/runs --jobs 2 \
        --quiet >> results/sweep_figures.log 2>&1
}
run "$report" $(stochastic 50)
run "$report" $(stochastic 20)
run "$report" thompson_bald_b50   # K = 100 (K ≥ b); the first sweep's K = 20 run was refused
run configs/mnist_b10.toml batchbald_b40 batchbald_b5
run "$report" evaluation_bald_b10 power_eig_b10 thompson_bald_b10 uniform_top_bald_b10
run configs/repeated_mnist.toml variation_ratios_b10 mean_std_b10
run "$report" $(stochastic 5)
run configs/mnist_b10.toml bald_b1
