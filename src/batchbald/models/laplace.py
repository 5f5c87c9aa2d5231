"""Last-layer Laplace approximation with a Kronecker-factored GGN.

References: MacKay 1992; Ritter et al., ICLR 2018; Daxberger et al., NeurIPS 2021 ("Laplace
Redux").

For a linear softmax head ``p(y | φ) = softmax(W̃ φ̃)`` with ``φ̃ = [φ, 1]`` and weights
``W̃ [C, D+1]`` (bias as the last column), the Hessian of the negative log-likelihood equals the
generalised Gauss-Newton matrix ``Σ_n Λ_n ⊗ φ̃_n φ̃_nᵀ`` with ``Λ_n = diag(p_n) − p_n p_nᵀ``
(the head is linear in ``W̃``). K-FAC replaces the sum of Kronecker products by ``G ⊗ A`` with
``G = (1/N) Σ_n Λ_n`` and ``A = Σ_n φ̃_n φ̃_nᵀ``; with an isotropic Gaussian prior of precision
λ the posterior precision is ``P = G ⊗ A + λ I``. From the eigendecompositions
``G = U_G S_G U_Gᵀ`` and ``A = U_A S_A U_Aᵀ``, ``P = (U_G ⊗ U_A)(S_G ⊗ S_A + λ)(U_G ⊗ U_A)ᵀ``, so
a posterior sample is ``W̃ + U_G (E ⊘ sqrt(s_G s_Aᵀ + λ)) U_Aᵀ`` with ``E ~ N(0, 1) [C, D+1]``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["kron_factors", "kron_samples"]


def kron_factors(
    features_N_D: torch.Tensor, weight_C_D: torch.Tensor, bias_C: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Eigendecompositions of the K-FAC factors at the MAP head.

    Args:
        features_N_D: training features ``[N, D]`` (any float dtype; computed in float64).
        weight_C_D: the trained (MAP) head's weight ``[C, D]``.
        bias_C: its bias ``[C]``.

    Returns:
        ``(eigvals_G_C, eigvecs_G_C_C, eigvals_A_E, eigvecs_A_E_E)`` float64, with
        ``E = D + 1``; eigenvalues clamped at 0 (both factors are positive semi-definite).
    """
    features = features_N_D.double()
    # [N, D] -> [N, D+1]: the constant 1 carries the bias.
    phi_N_E = torch.cat([features, torch.ones_like(features[:, :1])], dim=1)
    logits_N_C = phi_N_E @ torch.cat([weight_C_D, bias_C[:, None]], dim=1).double().T
    probs_N_C = F.softmax(logits_N_C, dim=1)
    count = max(features.shape[0], 1)
    g_C_C = torch.diag(probs_N_C.sum(0)) - probs_N_C.T @ probs_N_C
    a_E_E = phi_N_E.T @ phi_N_E
    s_g, u_g = torch.linalg.eigh(g_C_C / count)
    s_a, u_a = torch.linalg.eigh(a_E_E)
    return s_g.clamp_min(0), u_g, s_a.clamp_min(0), u_a


def kron_samples(
    weight_C_D: torch.Tensor,
    bias_C: torch.Tensor,
    factors: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    prior_precision: float,
    k: int,
    *,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """K posterior samples of the head: ``(weights_K_C_D, biases_K_C)``, float32 on the CPU.

    Args:
        weight_C_D: the MAP head's weight ``[C, D]`` (the posterior mean).
        bias_C: its bias ``[C]``.
        factors: from :func:`kron_factors`.
        prior_precision: λ > 0.
        k: number of samples K.
        generator: a CPU generator; the noise ``E [K, C, D+1]`` is drawn from it in one call.
    """
    s_g, u_g, s_a, u_a = factors
    classes, width = u_g.shape[0], u_a.shape[0]
    noise_K_C_E = torch.randn(k, classes, width, generator=generator, dtype=torch.float64)
    scale_C_E = (s_g[:, None] * s_a[None, :] + prior_precision).rsqrt()
    delta_K_C_E = u_g @ (noise_K_C_E * scale_C_E) @ u_a.T
    mean_C_E = torch.cat([weight_C_D, bias_C[:, None]], dim=1).detach().double().cpu()
    sample_K_C_E = (mean_C_E + delta_K_C_E).float()
    return sample_K_C_E[..., :-1].contiguous(), sample_K_C_E[..., -1].contiguous()
