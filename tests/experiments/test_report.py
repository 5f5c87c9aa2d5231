"""The Table-1 metric and the report tables, checked against hand-computed values."""

from __future__ import annotations

import math

import pytest

from batchbald.errors import InvalidInputError
from batchbald.experiments.report import (
    NOT_REACHED_LEGEND,
    accuracy_at,
    format_table,
    quartiles,
    reached,
    summarise,
    threshold_mark,
    time_to_threshold,
)

from .factories import make_trial


def test_threshold_mark_is_first_size_minus_batch_size():
    # sizes 20, 30, 40, 50; 0.9 is first reached at size 40 -> mark 40 - 10 = 30
    trial = make_trial([0.5, 0.85, 0.91, 0.95])
    assert threshold_mark(trial, 0.9) == 30.0
    assert threshold_mark(trial, 0.95) == 40.0
    assert threshold_mark(trial, 0.99) == math.inf


def test_quartiles_use_nearest_on_hand_computed_example():
    # Six trials: sorted marks 70, 80, 90, 100, 110, inf. numpy "nearest" picks the element at
    # round(q * (n - 1)) of the sorted array: 25% -> round(1.25) = 1 -> 80; 50% -> round(2.5) = 2
    # (round half to even) -> 90; 75% -> round(3.75) = 4 -> 110.
    assert quartiles([110, 70, math.inf, 90, 100, 80]) == (80.0, 90.0, 110.0)
    # Five trials, two never reach it: sorted 120, 130, 260, inf, inf -> indices 1, 2, 3.
    assert quartiles([math.inf, 260, 120, math.inf, 130]) == (130.0, 260.0, math.inf)


def test_summary_marks_match_hand_computed_quartiles():
    # Marks at 0.9 (b = 5, initial 20, size = 20 + 5t): first reaching step t gives 15 + 5t.
    curves = [[0.9], [0.5, 0.9], [0.5, 0.5, 0.5, 0.9], [0.5, 0.6]]
    trials = [make_trial(c, batch_size=5, trial=i) for i, c in enumerate(curves)]
    (summary,) = summarise(trials, thresholds=[0.9])
    # marks 15, 20, 30, inf -> nearest quartiles: idx round(0.75)=1 -> 20, round(1.5)=2 -> 30,
    # round(2.25)=2 -> 30.
    assert summary.marks[0.9] == (20.0, 30.0, 30.0)
    table = format_table([summary])
    assert "20 / 30 / 30" in table


def test_never_reached_prints_budget():
    trials = [make_trial([0.5, 0.6], trial=i, label_budget=300) for i in range(3)]
    text = format_table(summarise(trials, thresholds=[0.9]))
    assert ">300 / >300 / >300" in text


def test_accuracy_at_carries_last_value_forward_only_after_the_target():
    trial = make_trial([0.5, 0.7, 0.96], stop_reason="target_accuracy")  # sizes 20, 30, 40
    assert accuracy_at(trial, 10) != accuracy_at(trial, 10)  # NaN before the first size
    assert accuracy_at(trial, 35) == 0.7
    assert accuracy_at(trial, 300) == 0.96 and reached(trial, 300)
    for stop_reason in ("label_budget", None):  # stopped at its budget, or still running
        trial = make_trial([0.5, 0.7, 0.8], stop_reason=stop_reason)
        assert accuracy_at(trial, 40) == 0.8 and reached(trial, 40)
        assert math.isnan(accuracy_at(trial, 41)) and not reached(trial, 41)


def test_sizes_no_trial_reached_print_not_reached_with_a_legend():
    # Budget-stopped trials end at size 40; the one that stopped at its target (size 30)
    # carries 0.95 forward; "random" has one trial that reached 50.
    trials = [
        make_trial([0.5, 0.7, 0.8], trial=0),
        make_trial([0.5, 0.6, 0.8], trial=1),
        make_trial([0.5, 0.95], trial=2, stop_reason="target_accuracy"),
        make_trial([0.5, 0.6, 0.7, 0.75], method="random_b10"),
    ]
    summaries = summarise(trials, thresholds=[0.9], sizes=[30, 50])
    assert [(s.method, s.not_reached) for s in summaries] == [("bald_b10", ()), ("random_b10", ())]
    # At 50 only the target-stopped trial has a value (its carried 0.95): median over it.
    assert summaries[0].accuracy == {30: 0.7, 50: 0.95}
    budget_only = summarise(trials[:2] + trials[3:], thresholds=[0.9], sizes=[30, 50])
    assert budget_only[0].not_reached == (50,) and math.isnan(budget_only[0].accuracy[50])
    for style in ("table", "markdown"):
        text = format_table(budget_only, style)
        assert " n/r " in text or "| n/r |" in text
        assert text.splitlines()[-1] == NOT_REACHED_LEGEND
    csv_text = format_table(budget_only, "csv")
    assert ",n/r," in csv_text and NOT_REACHED_LEGEND not in csv_text
    # No legend where every cell was reached.
    assert NOT_REACHED_LEGEND not in format_table(summaries, "markdown")


def test_time_to_threshold_sums_step_times():
    trial = make_trial([0.5, 0.8, 0.95], seconds=2.0)
    assert time_to_threshold(trial, 0.8) == pytest.approx(4.0)
    assert time_to_threshold(trial, 0.99) == math.inf


def test_formats(two_methods):
    summaries = summarise(two_methods, thresholds=[0.9, 0.95], sizes=[60])
    table = format_table(summaries)
    assert table.splitlines()[0].startswith("experiment")
    assert "batchbald_b10" in table and "bald_b10" in table
    markdown = format_table(summaries, "markdown")
    assert markdown.splitlines()[1].startswith("|---|")
    csv_text = format_table(summaries, "csv")
    header = csv_text.splitlines()[0].split(",")
    assert header[:4] == ["experiment", "method", "b", "trials"]
    assert "acc@60 %" in header
    # batchbald median curve at size 60 (t = 4): 0.5 + 0.2 = 70.0 %
    assert ",70.0," in csv_text.splitlines()[1]


def test_bad_arguments():
    with pytest.raises(InvalidInputError, match="thresholds must lie in"):
        summarise([make_trial([0.5])], thresholds=[90])
    with pytest.raises(InvalidInputError, match="style must be"):
        format_table(summarise([make_trial([0.5])]), "html")


def test_acquisition_seconds_is_the_median_over_acquiring_steps():
    # Trial A acquires in 3 steps at 0.2 s, trial B in 2 steps at 4 s (the last step of each
    # trial acquires nothing and is left out): median of [0.2, 0.2, 0.2, 4, 4] = 0.2.
    trials = [
        make_trial([0.5, 0.6, 0.7, 0.8], acquisition_seconds=0.2),
        make_trial([0.5, 0.6, 0.7], trial=1, acquisition_seconds=4.0),
    ]
    assert trials[0].acquisition_seconds() == [0.2, 0.2, 0.2]
    (summary,) = summarise(trials, thresholds=[0.9])
    assert summary.acquisition_seconds == 0.2
    assert format_table([summary], "csv").splitlines()[1].endswith(",0.2")
