"""SoftmaxCrossEntropy: stability at +-1000, hand-computed values, gradient, bad labels."""

import numpy as np
import pytest

from alexnet_np.gradcheck import TOLERANCE, check_loss
from alexnet_np.layers import SoftmaxCrossEntropy, softmax


@pytest.mark.parametrize("n, k", [(4, 10), (1, 3), (7, 1000)], ids=["n4-k10", "n1-k3", "n7-k1000"])
def test_gradcheck(n, k):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((n, k)) * 2
    labels = rng.integers(0, k, size=n)
    if k == 1000:  # keep the finite-difference loop small for the big case
        logits = logits[:, :40] * 1.0
        labels = labels % 40
    assert check_loss(SoftmaxCrossEntropy(), logits, labels)["dlogits"] < TOLERANCE


def test_hand_computed():
    # two classes, logits [0, ln 3]: p = [1/4, 3/4]
    z = np.array([[0.0, np.log(3.0)]])
    loss_layer = SoftmaxCrossEntropy()
    np.testing.assert_allclose(loss_layer.forward(z, np.array([1])), np.log(4 / 3), rtol=1e-15)
    np.testing.assert_allclose(loss_layer.backward(), [[0.25, -0.25]], rtol=1e-15)
    # mean over the batch: duplicating the row halves each row's gradient
    loss_layer.forward(np.repeat(z, 2, axis=0), np.array([1, 1]))
    np.testing.assert_allclose(loss_layer.backward(), [[0.125, -0.125]] * 2, rtol=1e-15)


def test_uniform_logits_give_log_k():
    loss = SoftmaxCrossEntropy().forward(np.zeros((5, 1000), np.float32), np.arange(5))
    assert abs(loss - np.log(1000)) < 1e-5


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_for_huge_logits(dtype):
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]], dtype=dtype)
    loss_layer = SoftmaxCrossEntropy()
    loss = loss_layer.forward(z, np.array([1, 2]))
    assert np.isfinite(loss) and abs(loss - 1000.0) < 1e-3  # (2000 + 0) / 2
    dz = loss_layer.backward()
    assert np.all(np.isfinite(dz)) and dz.dtype == dtype
    np.testing.assert_allclose(softmax(z).sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("labels, message", [
    (np.array([0.0, 1.0]), "labels must be integers"),
    (np.array([0, 3]), r"labels must lie in \[0, 2\]"),
    (np.array([0, 1, 2]), r"expected labels of shape \(2,\)"),
], ids=["float-labels", "label-out-of-range", "wrong-count"])
def test_bad_labels(labels, message):
    with pytest.raises(ValueError, match="SoftmaxCrossEntropy: " + message):
        SoftmaxCrossEntropy().forward(np.zeros((2, 3)), labels)
