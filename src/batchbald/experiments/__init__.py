"""Experiments: TOML configs, the runner (local processes or Ray), results, reports and plots.

Typical use is the command line (``batchbald run configs/demo.toml``); from Python::

    config = load_config("configs/repeated_mnist.toml")
    run_trials(plan_trials([config], out_dir="results"))
    summaries = summarise(load_trials(["results"]), thresholds=[0.9, 0.95])
"""

from batchbald.experiments.config import (
    DataConfig,
    ExperimentConfig,
    MethodConfig,
    ScoringConfig,
    StopConfig,
    config_from_dict,
    load_config,
)
from batchbald.experiments.learner import BayesianLearner, build_learner
from batchbald.experiments.report import format_table, summarise, threshold_mark
from batchbald.experiments.results import TrialResult, load_trials, write_steps_csv
from batchbald.experiments.runner import plan_trials, run_trials
from batchbald.experiments.trial import TrialSpec, run_trial

__all__ = [
    "BayesianLearner",
    "DataConfig",
    "ExperimentConfig",
    "MethodConfig",
    "ScoringConfig",
    "StopConfig",
    "TrialResult",
    "TrialSpec",
    "build_learner",
    "config_from_dict",
    "format_table",
    "load_config",
    "load_trials",
    "plan_trials",
    "run_trial",
    "run_trials",
    "summarise",
    "threshold_mark",
    "write_steps_csv",
]
