"""The whole fast model against the whole reference model: same loss, same gradients."""

import numpy as np
import pytest

from alexnet_np.fast import FastConv2d
from alexnet_np.layers import Conv2d
from alexnet_np.model import build_model
from alexnet_np.optim import SGD


def batch(model, n, seed=0):
    rng = np.random.default_rng(seed)
    cfg = model.cfg
    x = rng.standard_normal((n, cfg.in_channels, cfg.input_size, cfg.input_size))
    return x, rng.integers(0, cfg.num_classes, size=n)


@pytest.mark.parametrize("arch,overrides", [
    ("micro", {}),
    ("cifar", {}),
    ("micro", {"input_variant": "224-ceil", "input_size": 15, "lrn_beta": 0.6}),
], ids=["micro", "cifar", "micro-224ceil-beta0.6"])
def test_fast_model_equals_reference_float64(arch, overrides):
    ref = build_model(arch, seed=1, dtype=np.float64, fast=False, **overrides).eval()
    fast = build_model(arch, seed=1, dtype=np.float64, fast=True, **overrides).eval()
    assert any(isinstance(layer, FastConv2d) for _, layer in fast.layers)
    assert not any(isinstance(layer, FastConv2d) for _, layer in ref.layers)
    x, y = batch(ref, 3)
    loss_ref, logits_ref = ref.loss_and_backward(x, y)
    loss_fast, logits_fast = fast.loss_and_backward(x, y)
    np.testing.assert_allclose(logits_fast, logits_ref, rtol=1e-10, atol=1e-12)
    assert abs(loss_fast - loss_ref) < 1e-10
    g_ref, g_fast = ref.grads, fast.grads
    assert set(g_fast) == set(g_ref) == set(fast.params)
    for key in g_ref:
        assert g_fast[key].dtype == np.float64
        np.testing.assert_allclose(g_fast[key], g_ref[key], rtol=1e-8, atol=1e-12, err_msg=key)


def test_fast_model_trains_in_float32_like_reference():
    """A few SGD steps in float32 with dropout: the two paths stay together."""
    ref = build_model("micro", seed=2, fast=False)
    fast = build_model("micro", seed=2, fast=True)
    x, y = batch(ref, 4, seed=3)
    x = x.astype(np.float32)
    for model in (ref, fast):
        opt = SGD(model.params, lr=0.05)
        for _ in range(3):
            loss, _ = model.loss_and_backward(x, y)
            opt.step(model.grads)
        model.final_loss = loss
        assert model.params["conv1.W"].dtype == np.float32
    assert abs(fast.final_loss - ref.final_loss) < 1e-4
    for key, w in ref.params.items():
        np.testing.assert_allclose(fast.params[key], w, rtol=1e-3, atol=1e-5, err_msg=key)


def test_conv1_input_gradient_is_optional():
    for fast in (False, True):
        model = build_model("micro", seed=0, dtype=np.float64, fast=fast)
        x, y = batch(model, 2)
        assert not model["conv1"].needs_input_grad
        model.loss(x, y)
        assert model.backward(model.loss_layer.backward()) is None
        assert "W" in model["conv1"].grads
        model["conv1"].needs_input_grad = True
        model.loss(x, y)
        dx = model.backward(model.loss_layer.backward())
        assert dx.shape == x.shape
        assert isinstance(model["conv1"], Conv2d)


def _grads_bits(arch, batch):
    model = build_model(arch, fast=True)
    rng = np.random.default_rng(0)
    size = model.cfg.input_size
    x = rng.standard_normal((batch, 3, size, size)).astype(np.float32)
    y = rng.integers(0, model.cfg.num_classes, batch)
    loss = model.loss_layer
    loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    return {k: np.ascontiguousarray(g).copy() for k, g in model.grads.items()}


def test_numbers_do_not_depend_on_the_number_of_workers(monkeypatch):
    """One worker, two or three: the same bits. (With one worker the jobs once ran with
    OpenBLAS's own threads, which rounded conv2's weight gradient of the cifar preset
    differently, and a run's curve then depended on the machine's core count.)"""
    import alexnet_np.fast.threads as threads

    runs = []
    for n in (1, 2, 3):
        monkeypatch.setattr(threads, "workers", lambda n=n: n)
        runs.append(_grads_bits("cifar", 16))
    for other in runs[1:]:
        for k in runs[0]:
            np.testing.assert_array_equal(runs[0][k], other[k], err_msg=k)
