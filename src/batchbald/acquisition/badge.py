"""BADGE: diverse, uncertain batches from k-means++ seeding of gradient embeddings (Ash et al.).

A pool point's *gradient embedding* is the gradient of the cross-entropy loss at the model's own
predicted label ŷ = argmax_y p(y|x) with respect to the last layer's weights W ``[C, D]``:

    g(x) = ∂/∂W CE(W h(x) + b, ŷ) = (p(·|x) − onehot(ŷ)) ⊗ h(x)       (flattened to C·D),

with h(x) the penultimate features. Its norm grows with uncertainty; its direction encodes the
features. BADGE picks the batch by k-means++ seeding in this space: the point of largest norm
first, then each next point with probability ∝ its squared distance to the nearest pick.

Because g = a ⊗ h is an outer product, ⟨g_n, g_m⟩ = (a_n · a_m)(h_n · h_m): squared distances
come from ``[N, C]`` and ``[N, D]`` matrix-vector products, without the ``[N, C·D]`` matrix
(≈ 600 MB in float64 for MNIST's 59k × 1,280). Each step costs O(N (C + D)).

Probabilities: p is the MC-averaged predictive (1/K) Σ_k p_k(y|x) of the pool log-probabilities;
with K = 1 (a deterministic network, as in the paper) g is exactly the paper's gradient, as the
tests check against autograd.

References:
    Ash, Zhang, Krishnamurthy, Langford, Agarwal (2020), "Deep Batch Active Learning by Diverse,
    Uncertain Gradient Lower Bounds", ICLR (Algorithm 1). Arthur, Vassilvitskii (2007),
    "k-means++: The Advantages of Careful Seeding".
"""

from __future__ import annotations

from typing import Any

import torch

from batchbald.acquisition._chunks import map_rows
from batchbald.acquisition._features import FeatureInputs, check_features, feature_acquirer
from batchbald.acquisition._validation import check_batch_size, check_generator, check_log_probs
from batchbald.acquisition.result import AcquisitionResult

__all__ = ["badge", "gradient_embeddings", "kmeans_pp_seeding", "loss_gradient_factors"]

F64 = torch.float64


def loss_gradient_factors(log_probs_N_K_C: Any, features_N_D: Any) -> tuple[torch.Tensor, ...]:
    """The factors ``(a [N, C], h [N, D])`` with gradient embedding g_n = a_n ⊗ h_n (float64)."""
    log_probs = check_log_probs(log_probs_N_K_C, warn_single_sample=False)
    features = check_features(features_N_D, "embeddings_N_D", num_points=len(log_probs))
    probs_N_C = predictive_mean(log_probs)
    residual_N_C = probs_N_C.clone()
    residual_N_C[torch.arange(len(probs_N_C)), probs_N_C.argmax(dim=1)] -= 1.0
    return residual_N_C, features


def predictive_mean(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    """(1/K) Σ_k p_k(y|x) per point, float64 ``[N, C]``, computed in row slices.

    The slices (:func:`~batchbald.acquisition._chunks.map_rows`) bound the float64 temporaries
    (the whole ``[N, K, C]`` in float64 is ≈ 470 MB for MNIST's 59k × 100 × 10); each row's mean
    is computed as without them.
    """
    return map_rows(lambda part: part.to(F64).exp().mean(dim=1), log_probs_N_K_C)


def gradient_embeddings(log_probs_N_K_C: Any, features_N_D: Any) -> torch.Tensor:
    """Materialised gradient embeddings ``[N, C·D]`` (float64), row n = vec((p − e_ŷ) h_nᵀ).

    Only for small pools and tests: :func:`badge` never builds this matrix.
    """
    residual_N_C, features_N_D = loss_gradient_factors(log_probs_N_K_C, features_N_D)
    return (residual_N_C[:, :, None] * features_N_D[:, None, :]).flatten(1)


def _pick(weights_N: torch.Tensor, taken_N: torch.Tensor, generator: Any) -> int:
    """Index drawn ∝ ``weights_N`` by inverse CDF of one uniform from ``generator``.

    Uniform over the untaken points when every weight is 0 (all remaining points duplicate a
    pick).
    """
    uniform = float(torch.rand(1, dtype=F64, generator=generator))
    cumulative = torch.cumsum(weights_N, dim=0)
    total = float(cumulative[-1])
    if total > 0.0:
        index = int(torch.searchsorted(cumulative, uniform * total, right=True))
        return min(index, len(weights_N) - 1)
    free = torch.nonzero(~taken_N).squeeze(1)
    return int(free[min(int(uniform * len(free)), len(free) - 1)])


def kmeans_pp_seeding(
    residual_N_C: torch.Tensor,
    features_N_D: torch.Tensor,
    batch_size: int,
    *,
    generator: torch.Generator | None = None,
) -> AcquisitionResult:
    """k-means++ seeding on g_n = a_n ⊗ h_n; the largest ‖g_n‖ first (Ash et al.'s choice).

    Scores are the squared distance of each pick to the nearest earlier pick (‖g‖² for the
    first). Draws one uniform per pick after the first from ``generator``.
    """
    residual_sq_N = residual_N_C.square().sum(dim=1)
    norms_sq_N = residual_sq_N * features_N_D.square().sum(dim=1)
    taken = torch.zeros(len(norms_sq_N), dtype=torch.bool, device=norms_sq_N.device)
    nearest_sq_N = torch.full_like(norms_sq_N, torch.inf)
    index = int(torch.argmax(norms_sq_N))
    indices, scores = [index], [float(norms_sq_N[index])]
    for _ in range(1, batch_size):
        taken[index] = True
        inner_N = (residual_N_C @ residual_N_C[index]) * (features_N_D @ features_N_D[index])
        distance_sq_N = (norms_sq_N + norms_sq_N[index] - 2.0 * inner_N).clamp_(min=0.0)
        nearest_sq_N = torch.minimum(nearest_sq_N, distance_sq_N).masked_fill_(taken, 0.0)
        index = _pick(nearest_sq_N.cpu(), taken.cpu(), generator)
        indices.append(index)
        scores.append(float(nearest_sq_N[index]))
    return AcquisitionResult(
        indices=torch.tensor(indices, dtype=torch.long), scores=torch.tensor(scores, dtype=F64)
    )


@feature_acquirer
def badge(inputs: FeatureInputs, batch_size: int) -> AcquisitionResult:  # noqa: D417
    """BADGE (Ash et al. 2020, Algorithm 1): k-means++ seeding of gradient embeddings.

    The arguments below are the registry's, which
    :func:`~batchbald.acquisition._features.feature_acquirer` passes as ``inputs`` (all but b).

    Args:
        log_probs_N_K_C: ``[N, K, C]`` pool log-probabilities (their K-mean is p).
        batch_size: b, with 1 ≤ b ≤ N.
        generator: source of the k-means++ draws.
        embeddings_N_D: ``[N, D]`` penultimate features h of the pool (``model.embed``).
        labelled_embeddings_L_D: unused (accepted so every feature acquirer has one signature).

    Returns:
        :class:`AcquisitionResult` in pick order; scores as in :func:`kmeans_pp_seeding`.

    Raises:
        InvalidInputError: bad log-probabilities, features, batch size or generator.
    """
    residual_N_C, features_N_D = loss_gradient_factors(
        inputs.log_probs_N_K_C, inputs.embeddings_N_D
    )
    batch_size = check_batch_size(batch_size, len(features_N_D))
    generator = check_generator(inputs.generator)
    return kmeans_pp_seeding(residual_N_C, features_N_D, batch_size, generator=generator)
