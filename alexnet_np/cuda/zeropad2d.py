"""Zero padding of the spatial axes on the GPU (the "224-ceil" input variant; see
``layers/zeropad2d.py``). Thread per element, grid-stride.

    forward   out[n, c, y, x] = x[n, c, y - top, x - left] inside, 0 outside
    backward  dx[n, c, y, x]  = dout[n, c, y + top, x + left]
"""

from numba import cuda


@cuda.jit
def pad_fwd_kernel(out, x, top, left):
    n, c, oh, ow = out.shape
    h, w = x.shape[2], x.shape[3]
    for idx in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        xx = idx % ow
        y = (idx // ow) % oh
        ch = (idx // (ow * oh)) % c
        i_n = idx // (ow * oh * c)
        sy = y - top
        sx = xx - left
        if 0 <= sy < h and 0 <= sx < w:
            out[i_n, ch, y, xx] = x[i_n, ch, sy, sx]
        else:
            out[i_n, ch, y, xx] = 0.0


@cuda.jit
def pad_bwd_kernel(dx, dout, top, left):
    n, c, h, w = dx.shape
    for idx in range(cuda.grid(1), dx.size, cuda.gridsize(1)):
        xx = idx % w
        y = (idx // w) % h
        ch = (idx // (w * h)) % c
        i_n = idx // (w * h * c)
        dx[i_n, ch, y, xx] = dout[i_n, ch, y + top, xx + left]
