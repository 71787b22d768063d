"""AlexNet assembly: the paper's numbers, whole-network gradients, sanity checks of training."""

import numpy as np
import pytest

from alexnet_np.errors import UserError
from alexnet_np.gradcheck import TOLERANCE, check_model
from alexnet_np.model import PRESETS, AlexNet, build_model, get_config, spatial_sizes
from alexnet_np.optim import SGD


def test_paper_preset_parameters_and_shapes():
    model = build_model("paper")
    assert model.num_params() == 60_965_224
    rows = {name: (shape, macs) for name, _, shape, _, macs in model.summary_rows()}
    assert rows["conv1"][0] == (96, 55, 55)
    assert rows["pool1"][0] == (96, 27, 27)
    assert rows["conv2"][0] == (256, 27, 27)
    assert rows["pool2"][0] == (256, 13, 13)
    assert rows["conv5"][0] == (256, 13, 13)
    assert rows["pool5"][0] == (256, 6, 6)
    assert rows["flatten"][0] == (9216,)
    assert rows["fc8"][0] == (1000,)
    assert sum(m for _, m in rows.values()) == 724_406_816  # "about 724 M" (docs/paper.md)
    assert model["conv2"].params["W"].shape == (256, 48, 5, 5)  # 5x5x48: the two-GPU split
    assert model["conv3"].params["W"].shape == (384, 256, 3, 3)  # sees both halves
    assert model["conv4"].params["W"].shape == (384, 192, 3, 3)


@pytest.mark.parametrize("variant", ["227", "224-ceil", "224-pad2"])
def test_input_variants_all_give_55(variant):
    cfg = get_config("paper", input_variant=variant)
    assert cfg.input_size == (227 if variant == "227" else 224)
    assert spatial_sizes(cfg)["conv1"] == 55
    model = AlexNet(cfg)
    assert model.num_params() == 60_965_224


def test_paper_init():
    model = build_model("paper", seed=1)
    for name in ["conv2", "conv4", "conv5", "fc6", "fc7"]:
        np.testing.assert_array_equal(model[name].params["b"], 1.0)
    for name in ["conv1", "conv3", "fc8"]:
        np.testing.assert_array_equal(model[name].params["b"], 0.0)
    w = model["fc6"].params["W"]
    assert abs(w.std() - 0.01) < 1e-4 and abs(w.mean()) < 1e-4


def test_switches_change_the_network():
    base = build_model("micro")  # the toy preset has no dropout (docs/training.md)
    names = [n for n, _ in base.layers]
    assert "lrn1" in names and "drop6" not in names
    assert "lrn1" not in [n for n, _ in build_model("micro", lrn=False).layers]
    assert "drop6" in [n for n, _ in build_model("micro", dropout=0.5).layers]
    assert "drop6" in [n for n, _ in build_model("cifar").layers]
    assert "drop6" not in [n for n, _ in build_model("cifar", dropout=0.0).layers]
    tv = [n for n, _ in build_model("micro", dropout=0.5, dropout_placement="torchvision").layers]
    assert tv.index("drop6") < tv.index("fc6")
    assert build_model("micro", grouped=False)["conv2"].groups == 1
    assert build_model("micro")["conv2"].groups == 2
    lrn = build_model("micro", lrn_alpha_over_n=True)["lrn1"]
    assert lrn.alpha == pytest.approx(1e-4 / 5)
    pool = build_model("cifar", pool_kernel=2, pool_stride=2)["pool1"]
    assert (pool.kernel_size, pool.stride) == (2, 2)
    assert type(build_model("micro", activation="tanh")["relu1"]).__name__ == "Tanh"


@pytest.mark.parametrize("arch", list(PRESETS))
def test_presets_forward_shape(arch):
    model = build_model(arch, num_classes=7)
    if arch == "paper":
        return  # the 227x227 forward is exercised by the benchmark, not the tests
    n = model.cfg.input_size
    out = model.eval().forward(np.zeros((2, 3, n, n), np.float32))
    assert out.shape == (2, 7) and out.dtype == np.float32


def test_bad_configs_are_user_errors():
    with pytest.raises(UserError, match="unknown architecture 'vgg'"):
        get_config("vgg")
    with pytest.raises(UserError, match="too small"):
        get_config("cifar", input_size=8, image_size=8)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3, 15, 15\)"):
        build_model("micro").forward(np.zeros((1, 3, 16, 16), np.float32))


def test_whole_network_gradcheck_micro_float64():
    rng = np.random.default_rng(0)
    model = build_model("micro", seed=3).astype(np.float64).train()
    for _, layer in model.layers:  # non-zero biases so every bias gradient is exercised
        if "b" in layer.params:
            layer.params["b"][:] = rng.uniform(0.05, 0.2, layer.params["b"].shape)
    x = rng.standard_normal((2, 3, 15, 15))
    labels = np.array([3, 7])
    errors = check_model(model, x, labels, rng, sample=60)
    assert max(errors.values()) < TOLERANCE, errors
    assert set(errors) == set(model.params)


def test_loss_at_init_is_chance():
    # With the small kaiming-initialised logits of a fresh net, softmax is near uniform.
    model = build_model("cifar", num_classes=10, seed=0, init="paper").eval()
    x = np.random.default_rng(1).standard_normal((32, 3, 32, 32)).astype(np.float32)
    loss, _ = model.loss(x, np.arange(32) % 10)
    assert abs(loss - np.log(10)) < 0.05


def test_micro_overfits_twenty_examples():
    rng = np.random.default_rng(0)
    model = build_model("micro", num_classes=10, seed=0, dropout=0.0)
    x = rng.standard_normal((20, 3, 15, 15)).astype(np.float32)
    y = np.arange(20) % 10
    opt = SGD(model.params, lr=0.01, weight_decay=0.0)
    model.train()
    for _ in range(400):
        model.loss_and_backward(x, y)
        opt.step(model.grads)
    logits = model.eval().forward(x)
    assert np.mean(logits.argmax(axis=1) == y) == 1.0


def test_default_network_is_built_from_the_reference_layers():
    """What a student steps into: alexnet_np/layers, not the Numba twins (fast=True)."""
    for model in (build_model("micro"), AlexNet(get_config("micro"))):
        modules = {type(layer).__module__ for _, layer in model.layers}
        assert all(m.startswith("alexnet_np.layers.") for m in modules), modules
    fast = build_model("micro", fast=True)
    assert type(fast["conv1"]).__module__ == "alexnet_np.fast.conv2d"


def test_params_are_views_of_layer_arrays():
    model = build_model("micro")
    model.params["conv1.W"][...] = 0
    np.testing.assert_array_equal(model["conv1"].params["W"], 0)
