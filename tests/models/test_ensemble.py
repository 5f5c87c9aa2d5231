"""Deep ensembles: members as the K samples, parallel (vmap) equals one-by-one, determinism."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from batchbald.errors import ModelError
from batchbald.models import DeepEnsemble, build_ensemble, predict_embeddings, predict_log_probs
from batchbald.models.init import init_weights


def _g(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _member(generator: torch.Generator | None) -> nn.Module:
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                        nn.Dropout(0.5), nn.Linear(3 * 6 * 6, 4))  # fmt: skip
    return init_weights(net, generator) if generator is not None else net


def test_members_are_the_samples():
    members = [_member(_g(seed)) for seed in range(3)]
    for member in members:
        member.eval()
    ensemble = DeepEnsemble(members)
    x = torch.randn(5, 1, 8, 8, generator=_g(9))
    out = predict_log_probs(ensemble, x, 3, batch_size=2)
    for index, member in enumerate(members):  # vmap over stacked weights = each member alone
        with torch.no_grad():
            expected = F.log_softmax(member(x), -1)
        assert torch.allclose(out[:, index], expected, atol=1e-6)
    assert torch.equal(out, predict_log_probs(ensemble, x, 3, batch_size=5))
    assert torch.equal(out[:, :2], predict_log_probs(ensemble, x, 2))


def test_training_trains_every_member_and_is_deterministic():
    def run() -> torch.Tensor:
        ensemble = build_ensemble(_member, 3, generator=_g(0)).train()
        optimizer = torch.optim.Adam(ensemble.parameters(), lr=0.01)
        x, y = torch.randn(6, 1, 8, 8, generator=_g(1)), torch.arange(6) % 4
        for _ in range(3):
            optimizer.zero_grad()
            log_probs = ensemble(x, 1)
            assert log_probs.shape == (6, 3, 4)  # every member in training mode
            F.nll_loss(log_probs.flatten(0, 1), y.repeat_interleave(3)).backward()
            optimizer.step()
        return predict_log_probs(ensemble, x, 3)

    first, second = run(), run()
    assert torch.equal(first, second)
    assert (first[:, 0] - first[:, 1]).abs().max() > 1e-3  # members differ (own init)


def test_embed_concatenates_members():
    ensemble = build_ensemble(_member, 2, generator=_g(0))
    assert predict_embeddings(ensemble, torch.zeros(3, 1, 8, 8)).shape == (3, 2 * 108)


def test_bad_ensembles():
    with pytest.raises(ModelError, match="at least 2 members; got 1"):
        DeepEnsemble([_member(None)])
    with pytest.raises(ModelError, match="members must be an int ≥ 2; got 0"):
        build_ensemble(_member, 0)
    with pytest.raises(ModelError, match="share one architecture"):
        DeepEnsemble([nn.Linear(2, 2), nn.Linear(3, 2)])
    ensemble = build_ensemble(_member, 2, generator=_g(0))
    with pytest.raises(ModelError, match="at most K = 2 samples; got k = 3"):
        predict_log_probs(ensemble, torch.zeros(1, 1, 8, 8), 3)
