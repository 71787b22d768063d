"""The benchmark runs and reports what it promises (not how fast: that is the bench's job)."""

import json

import numpy as np
import pytest

from alexnet_np.cli import main
from alexnet_np.model import build_model
from alexnet_np.tools.bench import (
    format_report,
    layer_flops,
    make_batch,
    run_bench,
    sgemm_gflops,
    sgemm_operands,
    torch_model,
)


@pytest.mark.parametrize("fast", [True, False])
def test_run_bench_reports_every_layer(fast):
    r = run_bench("micro", batch_size=2, steps=2, warmup=1, fast=fast)
    assert r["path"] == ("fast" if fast else "reference")
    assert r["train_images_per_s"] > 0 and r["infer_images_per_s"] > 0
    assert r["peak_rss_mb"] > 0
    names = [row["name"] for row in r["layers"]]
    assert names[0] == "conv1" and names[-1] == "fc8" and "lrn1" in names
    # every layer was timed (an unwrapped layer would read 0), and the per-layer times of
    # one step add up to no more than that step (times not reset between steps would)
    assert all(row["forward_ms"] > 0 and row["backward_ms"] > 0 for row in r["layers"])
    layer_ms = [row["forward_ms"] + row["backward_ms"] for row in r["layers"]]
    assert sum(layer_ms) <= r["train_step_s"] * 1e3 * 1.05 + 1.0
    conv1 = r["layers"][0]
    assert conv1["forward_gflop"] == pytest.approx(2 * 15 * 15 * 8 * 3 * 9 * 2 / 1e9)
    assert conv1["forward_of_sgemm"] == pytest.approx(
        conv1["forward_gflop"] / (conv1["forward_ms"] / 1e3) / r["sgemm_gflops"])
    assert "forward_of_sgemm" not in r["layers"][1]  # relu1: no products
    text = format_report(r)
    assert "images/s" in text and "conv1" in text and "loss+SGD" in text and "sgemm" in text


def test_layer_flops_count_the_products():
    """micro: conv1 3 -> 8 channels, 3x3, 15x15 output; no input gradient for conv1."""
    model = build_model("micro", fast=False)
    flops = layer_flops(model, 2)
    fwd = 2 * (15 * 15) * (8 * 3 * 3 * 3) * 2
    assert flops["conv1"] == (fwd, fwd)
    fwd2 = 2 * (7 * 7) * (16 * 4 * 3 * 3) * 2  # conv2 after pool1: 7x7, 8 -> 16, groups 2
    assert flops["conv2"] == (fwd2, 2 * fwd2)
    assert flops["fc8"][0] == 2 * 32 * 10 * 2 and "relu1" not in flops
    assert sgemm_gflops(*sgemm_operands(n=64)) > 0


def test_bench_command_json(capsys):
    assert main(["bench", "--arch", "micro", "--batch-size", "2", "--steps", "1",
                 "--warmup", "1", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    for key in ("train_images_per_s", "infer_images_per_s", "peak_rss_mb", "layers"):
        assert key in r


def test_bench_compare_torch_when_installed():
    pytest.importorskip("torch")
    r = run_bench("micro", batch_size=2, steps=1, warmup=1, compare_torch=True)
    assert r["ratio"] > 0 and r["torch_train_images_per_s"] > 0
    assert r["torch_peak_rss_mb"] > 0 and "PyTorch" in format_report(r)
    assert len(r["train_pair_ratios"]) == 1 and r["train_pair_ratios"][0] > 0
    assert "step by step" in format_report(r)


def test_torch_twin_computes_the_same_logits():
    """The PyTorch network the bench compares against is the same network (LRN alpha, groups,
    pooling): same weights in, same logits out."""
    torch = pytest.importorskip("torch")
    model = build_model("micro", seed=0).eval()
    x, _ = make_batch(model.cfg, 3)
    net = torch_model(model).eval()
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model.forward(x), expected, rtol=1e-4, atol=1e-4)
