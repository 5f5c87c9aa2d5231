"""k-center greedy core-set selection on penultimate features (Sener & Savarese, ICLR 2018).

The batch covers the pool: each pick is the pool point farthest from its nearest centre, the
centres being the labelled points and the earlier picks (the paper's Algorithm 1, a
2-approximation of the k-center problem). It ignores predictions, so it is a pure diversity
baseline; the features h(x) come from the model's penultimate layer (``model.embed``).

Distances are exact differences (``torch.cdist`` without the ‖a‖² + ‖b‖² − 2ab shortcut and its
cancellation), in float64, over slices of the pool and of the labelled set so that the ``[n, l]``
distance blocks stay under ``max_memory_bytes``; each pick updates the nearest-centre distances
in O(N · D).

References:
    Sener, Savarese (2018), "Active Learning for Convolutional Neural Networks: A Core-Set
    Approach", ICLR, Algorithm 1 (k-Center-Greedy).
"""

from __future__ import annotations

from typing import Any

import torch

from batchbald.acquisition._chunks import row_slices
from batchbald.acquisition._features import FeatureInputs, check_features, feature_acquirer
from batchbald.acquisition._validation import (
    check_batch_size,
    check_generator,
    check_log_probs,
    check_memory_budget,
)
from batchbald.acquisition.result import AcquisitionResult

__all__ = ["DEFAULT_CORESET_MEMORY_BYTES", "coreset", "k_center_greedy"]

F64 = torch.float64
DEFAULT_CORESET_MEMORY_BYTES = 2**25


def _nearest(points_N_D: torch.Tensor, centres_L_D: torch.Tensor, budget: int) -> torch.Tensor:
    """min_l ‖x_n − c_l‖ for every row n, float64 ``[N]`` (inf when there is no centre).

    ``torch.cdist`` in its difference mode: exact differences, only ``[n, l]`` blocks in memory.
    """
    nearest = torch.full((len(points_N_D),), torch.inf, dtype=F64, device=points_N_D.device)
    centre_rows = max(1, min(len(centres_L_D), budget // 2))
    point_rows = max(1, budget // centre_rows)
    for rows in row_slices(len(points_N_D), point_rows):
        for centres in row_slices(len(centres_L_D), centre_rows):
            block = torch.cdist(
                points_N_D[rows], centres_L_D[centres],
                compute_mode="donot_use_mm_for_euclid_dist",
            )  # fmt: skip
            nearest[rows] = torch.minimum(nearest[rows], block.amin(dim=1))
    return nearest


def k_center_greedy(
    features_N_D: Any,
    batch_size: int,
    *,
    labelled_features_L_D: Any = None,
    generator: torch.Generator | None = None,
    max_memory_bytes: int = DEFAULT_CORESET_MEMORY_BYTES,
) -> AcquisitionResult:
    """Greedy k-center: repeatedly pick argmax_n min_c ‖h_n − h_c‖ (ties to the lower index).

    Args:
        features_N_D: ``[N, D]`` pool features.
        batch_size: b, with 1 ≤ b ≤ N.
        labelled_features_L_D: ``[L, D]`` features of the labelled points (the initial
            centres); None or L = 0 makes the first pick uniformly random from ``generator``.
        generator: used only for that first pick.
        max_memory_bytes: bound on the temporaries of the distance computations.

    Returns:
        :class:`AcquisitionResult`; scores are each pick's Euclidean distance to its nearest
        centre when picked (0 for a random first pick).
    """
    features = check_features(features_N_D, "embeddings_N_D")
    batch_size = check_batch_size(batch_size, len(features))
    generator = check_generator(generator)
    budget = check_memory_budget(max_memory_bytes) // 8
    if labelled_features_L_D is None:
        labelled_features_L_D = features.new_zeros(0, features.shape[1])
    labelled = check_features(
        labelled_features_L_D, "labelled_embeddings_L_D", dim=features.shape[1], allow_empty=True
    ).to(features.device)
    return _greedy(features, labelled, batch_size, generator, budget)


def _greedy(
    features: torch.Tensor,
    labelled: torch.Tensor,
    batch_size: int,
    generator: torch.Generator | None,
    budget: int,
) -> AcquisitionResult:
    """The greedy loop of :func:`k_center_greedy` on checked float64 features."""
    nearest = _nearest(features, labelled, budget)
    taken = torch.zeros(len(features), dtype=torch.bool, device=features.device)
    indices, scores = [], []
    for _ in range(batch_size):
        if len(labelled) == 0 and not indices:
            index, score = int(torch.randint(len(features), (1,), generator=generator)), 0.0
        else:
            index = int(torch.argmax(nearest.masked_fill(taken, -1.0)))
            score = float(nearest[index])
        indices.append(index)
        scores.append(score)
        taken[index] = True
        nearest = torch.minimum(nearest, _nearest(features, features[index : index + 1], budget))
    return AcquisitionResult(
        indices=torch.tensor(indices, dtype=torch.long), scores=torch.tensor(scores, dtype=F64)
    )


@feature_acquirer
def coreset(inputs: FeatureInputs, batch_size: int) -> AcquisitionResult:  # noqa: D417
    """Registry form of :func:`k_center_greedy`: predictions are not used, only N.

    Its signature is every feature acquirer's (made by
    :func:`~batchbald.acquisition._features.feature_acquirer`).

    Args:
        log_probs_N_K_C: the pool size N (an int; the loop passes it, since coreset has
            ``needs_predictions=False``) or ``[N, K, C]`` log-probabilities (checked, then only
            N is read).
        batch_size: b, with 1 ≤ b ≤ N.
        generator: the first pick when there are no labelled points.
        embeddings_N_D: ``[N, D]`` pool features (``model.embed``).
        labelled_embeddings_L_D: ``[L, D]`` labelled points' features, the initial centres.

    Raises:
        InvalidInputError: bad log-probabilities, features (N must match), or batch size.
    """
    log_probs_N_K_C = inputs.log_probs_N_K_C
    if isinstance(log_probs_N_K_C, int) and not isinstance(log_probs_N_K_C, bool):
        num_points = log_probs_N_K_C
    else:
        num_points = len(check_log_probs(log_probs_N_K_C, warn_single_sample=False))
    features = check_features(inputs.embeddings_N_D, "embeddings_N_D", num_points=num_points)
    labelled = inputs.labelled_embeddings_L_D
    return k_center_greedy(
        features, batch_size, labelled_features_L_D=labelled, generator=inputs.generator
    )
