"""Consistent MC dropout layers: per-example masks in training, K shared masks when scoring."""

from __future__ import annotations

import pytest
import torch

from batchbald.errors import InvalidInputError
from batchbald.models import ConsistentMCDropout, ConsistentMCDropout2d


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, "0.5"])
def test_rejects_bad_probability(p):
    with pytest.raises(InvalidInputError, match=r"dropout probability p must be in \[0, 1\)"):
        ConsistentMCDropout(p)


def test_training_masks_are_fresh_per_row_and_scaled():
    layer = ConsistentMCDropout(0.5).train()
    out = layer(torch.ones(400, 50), 4, generator=_gen(0))
    assert set(out.unique().tolist()) <= {0.0, 2.0}
    assert 0.4 < (out == 0).double().mean().item() < 0.6
    # No two rows share a mask (probability 2^-50 per pair).
    assert torch.unique(out, dim=0).shape[0] == 400


def test_training_masks_reproducible_with_generator():
    layer = ConsistentMCDropout2d(0.5).train()
    x = torch.randn(6, 8, 3, 3, generator=_gen(1))
    assert torch.equal(layer(x, 2, generator=_gen(5)), layer(x, 2, generator=_gen(5)))
    assert not torch.equal(layer(x, 2, generator=_gen(5)), layer(x, 2, generator=_gen(6)))


def test_channel_dropout_zeroes_whole_channels():
    layer = ConsistentMCDropout2d(0.5).train()
    out = layer(torch.ones(20, 16, 5, 5), 1, generator=_gen(2))
    per_channel = out.flatten(2)
    assert torch.equal(per_channel.amin(2), per_channel.amax(2))


def test_eval_without_prepared_masks_raises():
    layer = ConsistentMCDropout().eval()
    with pytest.raises(
        InvalidInputError, match=r"has no consistent masks; call model\.prepare_masks"
    ):
        layer(torch.ones(6, 3), 3)


@pytest.mark.parametrize("layer_type", [ConsistentMCDropout, ConsistentMCDropout2d])
def test_prepared_masks_shared_by_inputs_and_calls(layer_type):
    layer = layer_type(0.5).eval()
    layer.prepare_masks(5, generator=_gen(3))
    x = torch.ones(4 * 5, 7, 2, 2)  # B = 4 inputs, K = 5 samples
    out = layer(x, 5).view(4, 5, 7, 2, 2)
    assert torch.equal(out, out[:1].expand_as(out))  # every input sees the same K masks
    assert not torch.equal(out[:, 0], out[:, 1])  # the K masks differ
    again = layer(torch.ones(2 * 5, 7, 2, 2), 5).view(2, 5, 7, 2, 2)
    assert torch.equal(again, out[:2])  # unchanged across calls (chunks) of other sizes


def test_prepared_masks_depend_only_on_generator_state():
    first, second = ConsistentMCDropout().eval(), ConsistentMCDropout().eval()
    generator = _gen(4)
    first.prepare_masks(3, generator=generator)
    after_one_draw = generator.get_state()
    second.prepare_masks(3, generator=_gen(4))
    x = torch.ones(3, 10)
    assert torch.equal(first(x, 3), second(x, 3))
    # Preparation consumes exactly one draw; masks are made from a private generator later.
    probe = _gen(4)
    torch.randint(2**62, (1,), generator=probe)
    assert torch.equal(after_one_draw, probe.get_state())


def test_reset_and_k_mismatch():
    layer = ConsistentMCDropout().eval()
    layer.prepare_masks(3, generator=_gen(0))
    with pytest.raises(InvalidInputError, match="prepared for k = 3; got k = 4"):
        layer(torch.ones(8, 2), 4)
    layer.reset_masks()
    assert layer.prepared_samples is None
    with pytest.raises(InvalidInputError, match="no consistent masks"):
        layer(torch.ones(3, 2), 3)


def test_feature_shape_change_needs_reset():
    layer = ConsistentMCDropout().eval()
    layer.prepare_masks(2, generator=_gen(0))
    layer(torch.ones(2, 5), 2)
    with pytest.raises(InvalidInputError, match="Call reset_masks"):
        layer(torch.ones(2, 6), 2)


def test_disabled_and_zero_p_are_identity():
    x = torch.randn(6, 4, 3, 3, generator=_gen(0))
    layer = ConsistentMCDropout2d(0.5).train()
    layer.enabled = False
    assert torch.equal(layer(x, 2, generator=_gen(1)), x)
    assert torch.equal(ConsistentMCDropout2d(0.0).train()(x, 2), x)


def test_channel_dropout_needs_spatial_axes():
    layer = ConsistentMCDropout2d().train()
    with pytest.raises(InvalidInputError, match="Use ConsistentMCDropout instead"):
        layer(torch.ones(4, 3), 1)
