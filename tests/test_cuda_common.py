"""alexnet_np.cuda without a GPU: importing works, require_gpu gives one clear line."""

import numba
import pytest

import alexnet_np.cuda as acuda
from alexnet_np.cuda import common
from alexnet_np.errors import UserError


def test_import_and_available_in_simulator_or_gpu():
    assert acuda.gpu_available()  # conftest turns the simulator on when there is no GPU
    acuda.require_gpu()


def test_require_gpu_message_when_nothing_can_run(monkeypatch):
    monkeypatch.setattr(numba.config, "ENABLE_CUDASIM", 0)
    monkeypatch.setattr(common.cuda, "is_available", lambda: False)
    assert not acuda.gpu_available()
    with pytest.raises(UserError, match=r"^no CUDA GPU found .*use --device cpu, or set "
                                        r"NUMBA_ENABLE_CUDASIM=1"):
        acuda.require_gpu()


def test_ceil_div_and_grid():
    assert common.ceil_div(10, 4) == 3 and common.ceil_div(8, 4) == 2
    blocks, threads = common.grid_1d(1000)
    assert blocks >= 1 and threads >= 1
