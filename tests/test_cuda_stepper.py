"""CudaStepper on the `micro` preset against the NumPy training step (model.loss_and_backward
+ optim.SGD): same losses, same parameters after sync_to_host (so a checkpoint written from
either device loads on the other), eval logits and features."""

import numpy as np
import pytest
from toy import SIM, TOY

from alexnet_np.cuda.stepper import CudaStepper
from alexnet_np.model import build_model
from alexnet_np.optim import SGD

BATCH = 2 if SIM else 16
# In the simulator the fast path (im2col + tiled GEMM, 256-thread blocks) costs ~30 s per
# training step, so the multi-step parity runs on the naive kernels and the fast path is
# checked on one forward pass (its backward kernels are covered by test_cuda_conv2d/gemm).
VERSIONS = ([("naive", "naive")] if SIM else
            [("naive", "naive"), ("gemm", "tiled"), ("gemm", "tiled128")])


def _pair(dropout=0.0, seed=0):
    cpu = build_model("micro", seed=seed, dropout=dropout, **TOY)
    gpu = build_model("micro", seed=seed, dropout=dropout, **TOY)
    return cpu, SGD(cpu.params, lr=0.02), gpu, SGD(gpu.params, lr=0.02)


def _batch(rng, n=BATCH):
    x = (rng.standard_normal((n, 3, 15, 15)) * 64).astype(np.float32)
    return x, rng.integers(0, 10, n)


@pytest.mark.parametrize("conv_version,gemm_version", VERSIONS)
def test_train_steps_match_numpy(conv_version, gemm_version):
    cpu, opt_cpu, gpu, opt_gpu = _pair()
    stepper = CudaStepper(gpu, opt_gpu, conv_version=conv_version, gemm_version=gemm_version)
    rng = np.random.default_rng(1)
    cpu.train()
    for step in range(3):
        if step == 2:  # the learning rate is read at every call
            opt_cpu.lr = opt_gpu.lr = 0.005
        x, y = _batch(rng)
        loss_gpu = stepper.train_step(x, y)
        loss_cpu, _ = cpu.loss_and_backward(x, y)
        opt_cpu.step(cpu.grads)
        assert isinstance(loss_gpu, float)
        assert abs(loss_gpu - float(loss_cpu)) <= 1e-3 * abs(float(loss_cpu))
    stepper.sync_to_host()  # in place: the model's own arrays, then a checkpoint could be saved
    for k, w in cpu.params.items():
        np.testing.assert_allclose(gpu.params[k], w, rtol=1e-3, atol=1e-5, err_msg=k)
        np.testing.assert_allclose(opt_gpu.velocity[k], opt_cpu.velocity[k], rtol=1e-3,
                                   atol=1e-5, err_msg=k)


def test_fast_path_logits_and_features_match_numpy():
    cpu, _, gpu, opt_gpu = _pair()
    stepper = CudaStepper(gpu, opt_gpu, conv_version="gemm", gemm_version="tiled128")
    x, _ = _batch(np.random.default_rng(2))
    cpu.eval()
    np.testing.assert_allclose(stepper.logits(x), cpu.forward(x), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(stepper.features(x, upto="relu7"), cpu.forward(x, upto="relu7"),
                               rtol=1e-4, atol=1e-4)


def test_checkpoint_from_cpu_loads_on_gpu():
    cpu, _, gpu, opt_gpu = _pair(seed=3)
    stepper = CudaStepper(gpu, opt_gpu, conv_version="naive", gemm_version="naive")
    trained = build_model("micro", seed=5, dropout=0.0, **TOY)  # stands in for a checkpoint
    gpu.load_params(trained.params)
    stepper.load_from_host()
    x, _ = _batch(np.random.default_rng(4))
    np.testing.assert_allclose(stepper.logits(x), trained.eval().forward(x), rtol=1e-4,
                               atol=1e-4)


def test_dropout_is_on_in_training_only():
    _, _, gpu, opt_gpu = _pair(dropout=0.5)
    stepper = CudaStepper(gpu, opt_gpu, seed=1, conv_version="naive", gemm_version="naive")
    x, y = _batch(np.random.default_rng(5))
    a = stepper.features(x, upto="drop6")
    b = stepper.features(x, upto="relu6")
    np.testing.assert_array_equal(a, b)  # eval: dropout passes everything
    loss = stepper.train_step(x, y)
    assert np.isfinite(loss)


def test_bad_input_shape():
    _, _, gpu, opt_gpu = _pair()
    stepper = CudaStepper(gpu, opt_gpu, conv_version="naive", gemm_version="naive")
    with pytest.raises(ValueError, match="expected input of shape"):
        stepper.logits(np.zeros((1, 3, 16, 16), np.float32))


def test_bench_cuda_interface(monkeypatch):
    from alexnet_np.cuda import bench
    from alexnet_np.cuda.bench import bench_cuda, format_result

    monkeypatch.setattr(bench, "build_model",  # the simulator's toy widths (tests/toy.py)
                        lambda arch, **kw: build_model(arch, **kw, **TOY))
    r = bench_cuda("micro", batch_size=2, steps=1, compare_torch=False, conv_version="naive",
                   gemm_version="naive")
    for key in ("train_images_per_s", "infer_images_per_s", "peak_rss_mb", "layers", "device"):
        assert key in r
    assert {row["name"] for row in r["layers"]} >= {"conv1", "fc8"}
    assert abs(sum(row["share"] for row in r["layers"]) - 1) < 1e-6
    assert "train" in format_result(r)
