"""Exact one-sided permutation tests for the handful of trials the reproduction compares.

With 3–6 values per group, the null distribution is enumerated exactly instead of approximated:

- :func:`mann_whitney_greater`: are the values of ``x`` larger than those of ``y``
  (independent groups)? U = #{(i, j): x_i > y_j} + ½ #{x_i = y_j}; p = P(U ≥ U_observed) over
  every way to split the pooled values into groups of the same sizes.
- :func:`signed_rank_greater`: are paired differences ``d`` positive? Wilcoxon's W = sum of
  the ranks of |d| over positive d (zeros dropped, midranks for ties); p = P(W ≥ W_observed)
  over all 2^n sign patterns.
"""

from __future__ import annotations

import itertools


def mann_whitney_greater(x: list[float], y: list[float]) -> float:
    """Exact one-sided p-value of the Mann–Whitney U test that ``x`` tends to exceed ``y``."""

    def u(first: list[float], second: list[float]) -> float:
        return sum((a > b) + 0.5 * (a == b) for a in first for b in second)

    pooled, observed = x + y, u(x, y)
    splits = list(itertools.combinations(range(len(pooled)), len(x)))
    at_least = sum(
        u([pooled[i] for i in chosen], [pooled[i] for i in range(len(pooled)) if i not in chosen])
        >= observed - 1e-9
        for chosen in splits
    )
    return at_least / len(splits)


def signed_rank_greater(differences: list[float]) -> float:
    """Exact one-sided p-value of Wilcoxon's signed-rank test that ``differences`` are > 0."""
    d = [v for v in differences if v != 0]
    order = sorted(range(len(d)), key=lambda i: abs(d[i]))
    ranks = [0.0] * len(d)
    start = 0
    while start < len(order):  # midranks for ties in |d|
        end = start
        while end + 1 < len(order) and abs(d[order[end + 1]]) == abs(d[order[start]]):
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    observed = sum(r for r, v in zip(ranks, d, strict=True) if v > 0)
    patterns = list(itertools.product((False, True), repeat=len(d)))
    at_least = sum(
        sum(r for r, positive in zip(ranks, signs, strict=True) if positive) >= observed - 1e-9
        for signs in patterns
    )
    return at_least / len(patterns)
