#!/usr/bin/env bash
# Regenerate the tables and plots used by docs/reproduction.md from reproduction/runs (finished
# trials only). Usage: bash reproduction/report.sh
set -euo pipefail
cd "$(dirname "$0")/.."
for experiment in mnist_b10 repeated_mnist repeated_mnist_small report_repeated_mnist_x2_small \
    tmlr_repeated_mnist_x4; do
    runs="reproduction/runs/$experiment"
    # Finished trials only: skip an experiment none of whose trials has finished yet.
    grep -lqs '"status": "complete"' "$runs"/*/trial_*.json || continue
    .venv/bin/batchbald report "$runs" --complete-only --thresholds 0.9 0.95 \
        --sizes 60 100 120 160 200 280 300 --format markdown \
        --markdown "docs/reproduction/$experiment.md" --csv "docs/reproduction/$experiment.csv" \
        --steps-csv "docs/reproduction/$experiment-steps.csv" \
        --plots-dir "docs/reproduction/$experiment"
    # Our curves and 90% sizes next to the published numbers (docs/reproduction/<experiment>/versus.png).
    .venv/bin/python reproduction/versus_plot.py "$runs"
done
# The subsample check (step 2 on the full pool vs the 15,000-image pool): table and curves.
if grep -lqs '"status": "complete"' reproduction/runs/repeated_mnist_small/*/trial_*.json; then
    .venv/bin/python reproduction/subsample_check.py \
        --plot docs/reproduction/repeated_mnist_small/subsample_check \
        > docs/reproduction/subsample_check.md
fi
