"""LocalResponseNorm: the paper's formula, its gradient, and the alpha vs alpha/n trap."""

import numpy as np
import pytest

from alexnet_np.gradcheck import TOLERANCE, assert_close, check_layer
from alexnet_np.layers import (
    LocalResponseNorm,
    lrn_backward,
    lrn_backward_naive,
    lrn_forward,
    lrn_forward_naive,
)

CONFIGS = [  # (C, size, alpha, beta, k)
    (7, 5, 1e-4, 0.75, 2.0),
    (3, 5, 0.2, 0.75, 2.0),
    (6, 3, 0.3, 0.75, 1.0),
    (6, 4, 0.2, 0.5, 2.0),
    (1, 5, 0.5, 0.75, 2.0),
    (9, 1, 0.1, 0.9, 1.5),
]
IDS = ["C{}-size{}-alpha{}-beta{}-k{}".format(*c) for c in CONFIGS]


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_gradcheck(config):
    c, size, alpha, beta, k = config
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, c, 3, 4)) * 3
    errors = check_layer(LocalResponseNorm(size, alpha, beta, k), x, rng)
    assert max(errors.values()) < TOLERANCE, errors


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_matches_naive_oracle(config):
    c, size, alpha, beta, k = config
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, c, 4, 3)) * 3
    out, cache = lrn_forward(x, size, alpha, beta, k)
    out_ref, cache_ref = lrn_forward_naive(x, size, alpha, beta, k)
    assert_close(out, out_ref, 1e-12, "out")
    dout = rng.standard_normal(out.shape)
    assert_close(lrn_backward(dout, cache), lrn_backward_naive(dout, cache_ref), 1e-12, "dx")


def test_hand_computed_paper_formula():
    # One position, channels a = [1, 2, 3], size 5 (window covers all three), alpha = 0.1,
    # beta = 0.5, k = 2: den = 2 + 0.1 * (1 + 4 + 9) = 3.4 for every channel.
    x = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1, 1)
    out = LocalResponseNorm(5, alpha=0.1, beta=0.5, k=2.0).forward(x)
    np.testing.assert_allclose(out.ravel(), np.array([1, 2, 3]) / np.sqrt(3.4), rtol=1e-15)
    # size 3: channel 0 sees {0, 1}, channel 1 sees {0, 1, 2}, channel 2 sees {1, 2}.
    out = LocalResponseNorm(3, alpha=0.1, beta=1.0, k=2.0).forward(x)
    np.testing.assert_allclose(out.ravel(), [1 / 2.5, 2 / 3.4, 3 / 3.3], rtol=1e-15)


def test_alpha_is_not_divided_by_size():
    # PyTorch's LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2) averages instead of summing,
    # so it equals the paper's layer with alpha = 1e-4. Reproduce PyTorch's formula by hand.
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 8, 2, 2)) * 20
    ours = LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0).forward(x)
    sq = np.pad(x * x, ((0, 0), (2, 2), (0, 0), (0, 0)))
    avg = sum(sq[:, i:i + 8] for i in range(5)) / 5
    torch_style = x / (2.0 + 5e-4 * avg) ** 0.75
    assert_close(ours, torch_style, 1e-12, "paper vs PyTorch(alpha=5e-4)")
    # ... and taking PyTorch's *default-looking* alpha=1e-4 literally is a different layer.
    wrong = x / (2.0 + 1e-4 * avg) ** 0.75
    assert np.max(np.abs(ours - wrong)) > 1e-3


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_and_input_untouched(dtype):
    x = np.random.default_rng(3).standard_normal((2, 6, 3, 3)).astype(dtype)
    x_copy = x.copy()
    layer = LocalResponseNorm()
    out = layer.forward(x)
    assert out.dtype == dtype and layer.backward(out).dtype == dtype
    np.testing.assert_array_equal(x, x_copy)


def test_bad_input():
    with pytest.raises(ValueError, match=r"LocalResponseNorm: expected input of shape "
                                         r"\(N, C, H, W\), got shape \(4, 5\)"):
        LocalResponseNorm().forward(np.zeros((4, 5)))
