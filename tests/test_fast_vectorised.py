"""The hot elementwise kernels of the fast path compile to packed (SIMD) arithmetic.

For five rounds of speed work the SGD update ran one float at a time: its Numba loop went over
``range(i0, i1)`` of the whole arrays, LLVM left it scalar (only ``vmulss``, no ``vmulps``),
and nothing failed but the clock (docs/performance.md, round 6: 61.7 -> 27.5 ms once the loop
ran over slices). These tests read the machine code LLVM makes for such kernels and fail when
their arithmetic has no packed instruction at all. x86-64 only: the test reads its mnemonics.
"""

import platform
import re

import numba
import numpy as np
import pytest

from alexnet_np.fast import maxpool2d, relu, sgd, winograd5

pytestmark = pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                                reason="reads x86-64 assembly")


def packed_ops(kernel, *args):
    """The packed float32 arithmetic instructions (``mulps``, ``vmaxps``, ...) in the machine
    code of ``kernel`` compiled for ``args``. A fresh compile of its Python function with the
    same options: Numba does not show the assembly of kernels loaded from its disk cache."""
    fresh = numba.njit(nogil=True, error_model="numpy")(kernel.py_func)
    fresh(*args)
    asm = "\n".join(fresh.inspect_asm().values())
    return re.findall(r"\bv?(?:mul|add|sub|max|min)ps\b", asm)


def test_sgd_update_is_vectorised():
    w, v, g = (np.ones(1000, np.float32) for _ in range(3))
    f32 = np.float32
    ops = packed_ops(sgd.sgd_update, w, v, g, 0, 1000, f32(0.01), f32(0.9), f32(5e-4))
    assert any(op.endswith("mulps") for op in ops), ops


def test_relu_backward_is_vectorised():
    a = np.ones(1000, np.float32)
    ops = packed_ops(relu.relu_backward_kernel, np.empty_like(a), a, a, 0, 1000)
    assert any(op.endswith("mulps") for op in ops), ops


def test_maxpool_row_selects_are_vectorised():
    a = np.ones(64, np.float32)
    ops = packed_ops(maxpool2d.take_larger3, a.copy(), np.zeros(64, np.int32), a, a, a,
                     np.int32(0))
    assert any(op.endswith("maxps") for op in ops), ops


def test_conv2_weight_gradient_transforms_are_vectorised():
    """The row transforms of conv2's weight gradient (winograd5.py): a sum of seven terms
    over the channels of a tile's input rows, and rows of dout added with a coefficient."""
    f32 = np.float32
    xc, dc = np.ones((8, 2, 9, 9), f32), np.ones((6, 2, 9, 9), f32)
    th, wr = 3, 13  # row tiles and row length of a 9x9 output with padding 2
    v = np.zeros((7, 2 * th * wr + 4, 8), f32)
    ops = packed_ops(winograd5.rows_input_transform, v, xc, 0, 2, 2, th, wr,
                     winograd5.BT.astype(f32))
    assert any(op.endswith("mulps") for op in ops), ops
    e = np.zeros((7, 6, 2 * th * wr), f32)
    ops = packed_ops(winograd5.rows_dout_transform, e, dc, 0, 2, th, wr,
                     winograd5.AT.astype(f32))
    assert any(op.endswith("mulps") for op in ops), ops
