"""`train --device cuda` and `--device cpu` log the same losses, and checkpoints cross devices.

Runs the CUDA kernels in Numba's simulator when there is no GPU (tests/conftest.py), so the
run is tiny: the micro preset at the simulator's toy widths (tests/toy.py), batch 2, two steps,
dropout 0, the naive kernels.
"""

import json

import numpy as np
import pytest
from toy import TOY

from alexnet_np.checkpoint import load_checkpoint
from alexnet_np.cuda import gpu_available
from alexnet_np.train import NumpyStepper, TrainSettings, load_for_inference, train

pytestmark = pytest.mark.skipif(not gpu_available(), reason="no GPU and no CUDA simulator")


def settings(tmp_path, out, device):
    return TrainSettings(arch="micro", synthetic_train=8, synthetic_val=4, batch_size=2,
                         epochs=1, max_steps=2, log_every=1, progress=False, device=device,
                         out=str(tmp_path / out), cache_dir=str(tmp_path / "cache"),
                         model_overrides={"dropout": 0.0, **TOY})


def test_cuda_and_cpu_log_the_same_losses(tmp_path, monkeypatch):
    from numba import config

    from alexnet_np.cuda.stepper import CudaStepper

    if config.ENABLE_CUDASIM:  # the simulator runs Python threads: use the cheap kernels
        real_init = CudaStepper.__init__

        def naive_init(self, model, optimizer, seed=0, **kw):
            real_init(self, model, optimizer, seed=seed, conv_version="naive",
                      gemm_version="naive")

        monkeypatch.setattr(CudaStepper, "__init__", naive_init)

    train(settings(tmp_path, "cpu", "cpu"), log=lambda m: None)
    train(settings(tmp_path, "gpu", "cuda"), log=lambda m: None)

    def losses(run):
        lines = [json.loads(x) for x in open(tmp_path / run / "metrics.jsonl")]
        return np.array([r["loss"] for r in lines if r["type"] == "step"])

    cpu, gpu = losses("cpu"), losses("gpu")
    assert len(cpu) == len(gpu) == 2
    np.testing.assert_allclose(gpu, cpu, rtol=1e-3)

    # a checkpoint written on the GPU loads on the CPU and gives the GPU's parameters
    p_cpu = load_checkpoint(tmp_path / "cpu" / "last.npz")[0]
    p_gpu = load_checkpoint(tmp_path / "gpu" / "last.npz")[0]
    for k in p_cpu:
        np.testing.assert_allclose(p_gpu[k], p_cpu[k], rtol=1e-3, atol=1e-6, err_msg=k)
    model, stepper, _, _ = load_for_inference(tmp_path / "gpu" / "last.npz", "cpu")
    assert isinstance(stepper, NumpyStepper)
    np.testing.assert_array_equal(model.params["conv1.W"], p_gpu["conv1.W"])


def test_no_gpu_is_one_line_before_any_work(tmp_path):
    """Without a GPU (and without the simulator) `train --device cuda` says so at once."""
    import os
    import subprocess
    import sys

    if os.path.exists("/dev/nvidiactl"):
        pytest.skip("a GPU is present")
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "0", "PYTHONPATH": os.getcwd()}
    out = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "alexnet_np", "train", "--device", "cuda",
                        "--out", str(out), "--quiet"], capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "alexnet-np train: error: no CUDA GPU found (numba.cuda.is_available() is False); use "
        "--device cpu, or set NUMBA_ENABLE_CUDASIM=1 to run the kernels in Numba's simulator"]
    assert r.stdout == "" and not out.exists()
