"""Compile every CUDA kernel for real GPUs, without a GPU: registers, shared memory, spills.

Numba's simulator runs the kernels as Python, so it cannot see what only the real compiler
sees: code Numba cannot type for the device (a shared-array shape that is not a literal, a
float64 creeping into float32 math), local-memory spills, register counts that cap occupancy
or exceed a block's budget, shared memory over 48 KB. This module compiles every kernel with
the argument types its launcher passes (``numba.cuda.compile_ptx`` -> PTX for sm_80, which
every later GPU runs; NVIDIA's ``ptxas`` -> machine code for sm_80 and sm_90), reads
``ptxas -v``, and counts the machine instructions with ``nvdisasm`` when it is installed.
It needs the NVIDIA compiler wheels (the ``cuda-compile`` extra: ``nvidia-cuda-nvcc``
carries ptxas, ``nvidia-nvvm`` libNVVM, ``nvidia-cuda-nvdisasm`` the disassembler) and no
GPU::

    NUMBA_ENABLE_CUDASIM=0 python -m alexnet_np.cuda.compile_check [--cc 80 90] [--json FILE]

It exits 1 when a kernel fails to compile, uses local memory (a stack frame or spills),
needs more registers than a block of its size can have (registers x threads > 65,536, or more
than 255 per thread) or more than 48 KB of static shared memory.
"""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

REGS_PER_SM = 65536  # per block as well, on sm_80 and sm_90
MAX_REGS_PER_THREAD = 255
MAX_STATIC_SMEM = 48 * 1024


def _a(ndim, dtype=np.float32):
    """An example array of the kind the launchers pass (C-contiguous)."""
    return np.zeros((1,) * ndim, dtype=dtype)


def kernel_table():
    """(name, kernel, example arguments, threads per block) for every kernel of the package,
    with arguments of the types its launcher passes (Python ints are int64 there)."""
    from . import (
        conv2d,
        dropout,
        gemm,
        gemm3,
        linear,
        lrn,
        maxpool2d,
        reduce,
        relu,
        sgd,
        softmax_xent,
        zeropad2d,
    )

    f1, f2, f3, f4 = _a(1), _a(2), _a(3), _a(4)
    i, s = 1, np.float32(1.0)
    i32_4, i64_1 = _a(4, np.int32), _a(1, np.int64)
    t1 = 256  # common.grid_1d's block
    rows = [
        ("gemm.naive (v1)", gemm.gemm_naive_kernel, (f2, f2, f2, i, i, i, i, i, s, s), 256),
        ("gemm.tiled (v2)", gemm.gemm_tiled_kernel, (f2, f2, f2, i, i, i, i, i, s, s), 256),
    ]
    for (ta, tb), k in gemm3.KERNELS.items():
        rows.append((f"gemm3.tiled128 (v3) ta={int(ta)} tb={int(tb)}", k,
                     (f2, f2, f2, f3, i, i, i, i, i, i, s, s), gemm3.THREADS))
    rows += [
        ("gemm3.splitk_reduce", gemm3.splitk_reduce_kernel, (f2, f3, i, s, s), t1),
        ("conv2d.fwd_naive", conv2d.conv_fwd_naive_kernel, (f4, f4, f4, f1, i, i), t1),
        ("conv2d.bwd_data_naive", conv2d.conv_bwd_data_naive_kernel, (f4, f4, f4, i, i), t1),
        ("conv2d.bwd_weights_naive", conv2d.conv_bwd_weights_naive_kernel, (f4, f4, f4, i, i),
         t1),
        ("conv2d.im2col", conv2d.im2col_kernel, (f2, f4, i, i, i, i, i, i), t1),
        ("conv2d.col2im", conv2d.col2im_kernel, (f4, f2, i, i, i, i, i, i), t1),
        ("conv2d.mat_to_nchw", conv2d.mat_to_nchw_kernel, (f1, f2, f1, i, i), t1),
        ("conv2d.nchw_to_mat", conv2d.nchw_to_mat_kernel, (f2, f1, i, i), t1),
        ("maxpool2d.fwd", maxpool2d.maxpool_fwd_kernel, (f4, i32_4, f4, i, i), t1),
        ("maxpool2d.bwd", maxpool2d.maxpool_bwd_kernel, (f4, f4, i32_4, i, i), t1),
        ("lrn.fwd", lrn.lrn_fwd_kernel, (f4, f4, f4, i, s, s, s), t1),
        ("lrn.bwd", lrn.lrn_bwd_kernel, (f4, f4, f4, f4, f4, i, s, s), t1),
        ("relu.fwd", relu.relu_fwd_kernel, (f1, f1), t1),
        ("relu.bwd", relu.relu_bwd_kernel, (f1, f1, f1), t1),
        ("tanh.fwd", relu.tanh_fwd_kernel, (f1, f1), t1),
        ("tanh.bwd", relu.tanh_bwd_kernel, (f1, f1, f1), t1),
        ("dropout.fwd", dropout.dropout_fwd_kernel, (f1, f1, i, s, s), t1),
        ("dropout.bwd", dropout.dropout_bwd_kernel, (f1, f1, i, s, s), t1),
        ("linear.add_bias", linear.add_bias_kernel, (f2, f1), t1),
        ("softmax_xent.rows", softmax_xent.xent_rows_kernel, (f2, f1, f2, i64_1), 128),
        ("softmax_xent.mean", softmax_xent.mean_kernel, (f1, f1), 1),
        ("reduce.sum_rows", reduce.sum_rows_kernel, (f1, f2), reduce.BLOCK),
        ("reduce.sum_cols", reduce.sum_cols_kernel, (f1, f2), t1),
        ("reduce.sum_channels", reduce.sum_channels_kernel, (f1, f4), t1),
        ("sgd.update", sgd.sgd_kernel, (f1, f1, f1, s, s, s), t1),
        ("zeropad2d.fwd", zeropad2d.pad_fwd_kernel, (f4, f4, i, i), t1),
        ("zeropad2d.bwd", zeropad2d.pad_bwd_kernel, (f4, f4, i, i), t1),
    ]
    return rows


def find_tool(name):
    """A CUDA tool from the NVIDIA wheels (nvidia/cu*/bin: the same release as their libNVVM,
    so its ptxas reads the PTX that libNVVM writes), else $CUDA_HOME/bin, else PATH."""
    cands = []
    try:
        import nvidia

        for root in nvidia.__path__:
            cands += sorted(glob.glob(os.path.join(root, "*", "bin", name)), reverse=True)
    except ImportError:
        pass
    if os.environ.get("CUDA_HOME"):
        cands.append(os.path.join(os.environ["CUDA_HOME"], "bin", name))
    cands.append(shutil.which(name) or "")
    return next((c for c in cands if c and os.access(c, os.X_OK)), None)


def missing_tools():
    """A one-line reason when the compiler wheels are absent, else None."""
    if find_tool("ptxas") is None:
        return ("ptxas not found (install the compiler wheels: pip install -e '.[cuda-compile]')")
    from numba import cuda

    try:
        cuda.compile_ptx(lambda a: None, "void(float32[::1])", cc=(8, 0))
    except Exception as err:  # no libNVVM
        return f"numba cannot compile for the device ({type(err).__name__}: {err})"
    return None


_ENTRY = re.compile(r"Compiling entry function '([^']+)' for '(sm_\d+)'")
_STACK = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
_USED = re.compile(r"Used (\d+) registers")
_SMEM = re.compile(r"(\d+) bytes smem")


def parse_ptxas(text):
    """{registers, stack, spill_stores, spill_loads, smem} of the one kernel in ``text``."""
    r = {"registers": 0, "stack": 0, "spill_stores": 0, "spill_loads": 0, "smem": 0}
    m = _STACK.search(text)
    if m:
        r["stack"], r["spill_stores"], r["spill_loads"] = map(int, m.groups())
    m = _USED.search(text)
    if m:
        r["registers"] = int(m.group(1))
    m = _SMEM.search(text)
    if m:
        r["smem"] = int(m.group(1))
    return r


def count_sass(cubin, nvdisasm):
    """(instructions, FFMA, LDS) in the machine code of ``cubin``."""
    out = subprocess.run([nvdisasm, "-c", cubin], capture_output=True, text=True,
                         check=True).stdout
    ops = re.findall(r"^\s+/\*[0-9a-f]{4,}\*/\s+(?:@!?U?P\w+\s+)?([A-Z][A-Z0-9_.]*)", out,
                     re.M)
    return (len(ops), sum(o.startswith("FFMA") for o in ops),
            sum(o.startswith("LDS") for o in ops))


def _problems(row, threads):
    problems = []
    if row["stack"] or row["spill_stores"] or row["spill_loads"]:
        problems.append(f"local memory: {row['stack']} B stack frame, "
                        f"{row['spill_stores']} B spill stores, {row['spill_loads']} B spill loads")
    if row["registers"] > MAX_REGS_PER_THREAD or row["registers"] * threads > REGS_PER_SM:
        problems.append(f"{row['registers']} registers x {threads} threads exceeds the "
                        f"{REGS_PER_SM} of a block")
    if row["smem"] > MAX_STATIC_SMEM:
        problems.append(f"{row['smem']} B of shared memory exceeds 48 KB")
    if row["ptx_f64"]:
        problems.append(f"{row['ptx_f64']} float64 operations in the PTX (a float64 literal "
                        f"or constant in float32 math?)")
    return problems


def check_kernel(name, kernel, args, threads, ccs, tmp, ptxas, nvdisasm=None):
    """Compile one kernel to PTX once (for the lowest cc: PTX runs on every later one), then
    to machine code for every cc in ``ccs``; one row of resources and problems per cc."""
    import numba
    from numba import cuda

    sig = tuple(numba.typeof(a) for a in args)
    rows = [{"kernel": name, "cc": f"{cc[0]}{cc[1]}", "threads": threads, "problems": []}
            for cc in ccs]
    try:
        ptx, _ = cuda.compile_ptx(kernel.py_func, sig, cc=min(ccs),
                                  launch_bounds=kernel.targetoptions.get("launch_bounds"))
    except Exception as err:
        for row in rows:
            row["problems"].append(f"does not compile: {type(err).__name__}: "
                                   f"{str(err).strip().splitlines()[0][:200]}")
        return rows
    base = os.path.join(tmp, re.sub(r"\W", "_", name))
    with open(base + ".ptx", "w") as f:
        f.write(ptx)
    for row in rows:
        cubin = f"{base}_{row['cc']}.cubin"
        p = subprocess.run([ptxas, f"-arch=sm_{row['cc']}", "-v", base + ".ptx", "-o", cubin],
                           capture_output=True, text=True)
        if p.returncode != 0:
            row["problems"].append("ptxas failed: " + " ".join(p.stderr.split())[:300])
            continue
        row.update(parse_ptxas(p.stderr))
        row["ptx_fma"] = ptx.count("fma.rn.f32")
        row["ptx_f64"] = len(re.findall(r"\.f64\b", ptx))
        if nvdisasm:
            row["sass"], row["ffma"], row["lds"] = count_sass(cubin, nvdisasm)
        row["problems"] += _problems(row, threads)
    return rows


def run(ccs=((8, 0), (9, 0)), only=None):
    """Compile every kernel (``only``: names containing this string) for every cc."""
    ptxas, nvdisasm = find_tool("ptxas"), find_tool("nvdisasm")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, kernel, args, threads in kernel_table():
            if not only or only in name:
                rows += check_kernel(name, kernel, args, threads, ccs, tmp, ptxas, nvdisasm)
    return rows


def format_table(rows):
    head = (f"{'kernel':<36}{'cc':>4}{'thr':>5}{'regs':>6}{'smem B':>8}{'stack':>7}"
            f"{'spill':>7}{'SASS':>7}{'FFMA':>6}{'LDS':>5}  problems")
    lines = [head]
    for r in rows:
        if "registers" not in r:
            lines.append(f"{r['kernel']:<36}{r['cc']:>4}{r['threads']:>5}  "
                         + "; ".join(r["problems"]))
            continue
        spill = r["spill_stores"] + r["spill_loads"]
        lines.append(f"{r['kernel']:<36}{r['cc']:>4}{r['threads']:>5}{r['registers']:>6}"
                     f"{r['smem']:>8}{r['stack']:>7}{spill:>7}{r.get('sass', '-'):>7}"
                     f"{r.get('ffma', '-'):>6}{r.get('lds', '-'):>5}  "
                     + ("; ".join(r["problems"]) or "ok"))
    return "\n".join(lines)


def _main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m alexnet_np.cuda.compile_check",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--cc", nargs="+", default=["80", "90"],
                        help="compute capabilities to compile for (default: 80 90)")
    parser.add_argument("--only", help="check only kernels whose name contains this")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)
    import numba

    if numba.config.ENABLE_CUDASIM:
        print("compile_check: the simulator is on; run with NUMBA_ENABLE_CUDASIM=0",
              file=sys.stderr)
        return 2
    reason = missing_tools()
    if reason:
        print(f"compile_check: {reason}", file=sys.stderr)
        return 2
    ccs = [(int(c[:-1]), int(c[-1])) for c in args.cc]
    rows = run(ccs, args.only)
    print(format_table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    bad = [r for r in rows if r["problems"]]
    print(f"{len(rows)} compilations, {len(bad)} with problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(_main())
