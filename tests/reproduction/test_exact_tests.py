"""The exact permutation tests behind the reproduction document's p-values.

References: hand-enumerated null distributions of small cases (stated per test); the module
was also checked against scipy's permutation tests on 200 random small samples (scipy is not a
dependency, so that check is not part of the suite).
"""

from __future__ import annotations

import math

import exact_tests
import pytest


def test_mann_whitney_fully_separated_groups_give_one_over_the_number_of_splits():
    # 3 of 9 pooled values above all others: only 1 of C(9, 3) = 84 splits does as well.
    p = exact_tests.mann_whitney_greater([10.0, 11.0, 12.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert p == pytest.approx(1 / 84)


def test_mann_whitney_matches_the_documents_step_1_value():
    # U = 16 of 18; splits with U >= 16: top three (18), one swap at the boundary (17),
    # two with U = 16 -> 4 / 84 = 0.048 (docs/reproduction.md, step 1).
    ours, paper = [87.5, 88.4, 89.5], [85.5, 85.8, 86.3, 86.5, 86.7, 89.4]
    assert exact_tests.mann_whitney_greater(ours, paper) == pytest.approx(4 / 84)


def test_mann_whitney_of_identical_values_is_one():
    assert exact_tests.mann_whitney_greater([1.0, 1.0], [1.0, 1.0, 1.0]) == 1.0


def test_signed_rank_all_positive_gives_two_to_the_minus_n():
    assert exact_tests.signed_rank_greater([0.5, 1.0, 2.0, 3.0, 4.0, 5.0]) == 1 / 64


def test_signed_rank_drops_zeros_and_counts_patterns_by_hand():
    # d = (-1, 2, 3) after dropping the zero: ranks 1, 2, 3, W = 5. Of the 8 sign patterns,
    # W >= 5 for {2,3} (5) and {1,2,3} (6): p = 2 / 8.
    assert exact_tests.signed_rank_greater([0.0, -1.0, 2.0, 3.0]) == 0.25


def test_signed_rank_uses_midranks_for_ties():
    # |d| = (1, 1, 2): midranks 1.5, 1.5, 3; d = (1, -1, 2) gives W = 4.5. Patterns with
    # W >= 4.5: {1.5, 3}, {1.5, 3} and {1.5, 1.5, 3} -> 3 / 8.
    assert exact_tests.signed_rank_greater([1.0, -1.0, 2.0]) == 0.375


def test_p_values_lie_in_the_unit_interval():
    p = exact_tests.signed_rank_greater([-1.0, -2.0])
    assert 0 < p <= 1 and math.isclose(p, 1.0)
