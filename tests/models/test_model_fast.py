"""The exact scoring identities of batchbald.models.fast against direct computation."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from batchbald.models.fast import (
    channel_contributions,
    masked_conv,
    masked_conv_maxpool,
    max_pool_2x2,
)
from batchbald.models.init import init_weights


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _direct(hidden, masks, conv, pool=None):
    """conv(m_k ⊙ h_b) [then max-pool] for every (b, k), one at a time: [B, K, ...]."""
    rows = []
    for b in range(hidden.shape[0]):
        outs = [conv(hidden[b : b + 1] * mask.view(1, -1, 1, 1)) for mask in masks]
        if pool is not None:
            outs = [F.max_pool2d(out, pool) for out in outs]
        rows.append(torch.cat(outs))
    return torch.stack(rows)


CONVS = [
    {"kernel_size": 5},
    {"kernel_size": 3, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "dilation": 2, "bias": False},
]


@pytest.mark.parametrize("options", CONVS)
def test_channel_contributions_sum_to_the_convolution(options):
    conv = init_weights(nn.Conv2d(4, 6, **options), _gen(0))
    hidden = torch.randn(3, 4, 13, 11, generator=_gen(1))
    parts = channel_contributions(hidden, conv)
    expected = conv(hidden).flatten(1)
    if conv.bias is not None:
        expected = expected - conv.bias.repeat_interleave(expected.shape[1] // 6)
    torch.testing.assert_close(parts.sum(1), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("options", CONVS)
def test_masked_conv(options):
    conv = init_weights(nn.Conv2d(4, 6, **options), _gen(0))
    hidden = torch.randn(3, 4, 13, 11, generator=_gen(1))
    masks = (torch.rand(5, 4, generator=_gen(2)) > 0.5).float() * 2
    with torch.no_grad():
        torch.testing.assert_close(
            masked_conv(hidden, masks, conv), _direct(hidden, masks, conv), atol=1e-5, rtol=1e-5
        )


@pytest.mark.parametrize("options", CONVS)
@pytest.mark.parametrize("pool", [2, 3])
def test_masked_conv_maxpool(options, pool):
    conv = init_weights(nn.Conv2d(4, 6, **options), _gen(0))
    hidden = torch.relu(torch.randn(3, 4, 13, 11, generator=_gen(1)))
    masks = torch.rand(5, 4, generator=_gen(2)) * 3  # any non-negative channel scales
    with torch.no_grad():
        torch.testing.assert_close(
            masked_conv_maxpool(hidden, masks, conv, pool),
            _direct(hidden, masks, conv, pool),
            atol=1e-5,
            rtol=1e-5,
        )


def test_rejects_grouped_convolutions():
    conv = nn.Conv2d(4, 4, 3, groups=2)
    with pytest.raises(NotImplementedError, match="groups=1"):
        channel_contributions(torch.zeros(1, 4, 5, 5), conv)


@pytest.mark.parametrize("shape", [(3, 4, 24, 24), (2, 5, 9, 9), (7, 8, 11), (1, 1, 2, 3)])
def test_max_pool_2x2_is_max_pool2d_bitwise(shape):
    hidden = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    hidden.view(-1)[0] = float("nan")  # NaN propagates like in max_pool2d
    expected = F.max_pool2d(hidden, 2)
    assert torch.equal(max_pool_2x2(hidden).isnan(), expected.isnan())
    assert torch.equal(max_pool_2x2(hidden).nan_to_num(), expected.nan_to_num())
