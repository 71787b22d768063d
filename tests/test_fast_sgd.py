"""The fused SGD update against the reference ``optim.SGD``."""

import numpy as np
import pytest

from alexnet_np.fast.sgd import FastSGD
from alexnet_np.optim import SGD


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fast_sgd_matches_reference(dtype):
    rng = np.random.default_rng(0)
    shapes = {"a.W": (5, 3, 2, 2), "a.b": (5,), "c.W": (7, 11), "d.W": (300, 301)}
    p_ref = {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}
    p_fast = {k: v.copy() for k, v in p_ref.items()}
    ref, fast = SGD(p_ref, lr=0.1), FastSGD(p_fast, lr=0.1)
    for step in range(3):
        grads = {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}
        grads["c.W"] = np.asfortranarray(grads["c.W"])  # takes the fallback path
        # d.W (90,300 entries) is updated in ranges spread over the workers
        if step == 2:
            ref.lr = fast.lr = 0.01  # a learning-rate drop
        ref.step(grads)
        fast.step(grads)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for k in shapes:
        assert p_fast[k].dtype == dtype
        np.testing.assert_allclose(p_fast[k], p_ref[k], rtol=tol, atol=tol)
        np.testing.assert_allclose(fast.velocity[k], ref.velocity[k], rtol=tol, atol=tol)
