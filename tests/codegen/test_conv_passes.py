"""The convolution layer's large-call compilations ('[unfold]'): the bias gradient's interleaved
channel sums (symnn.codegen.passes.blas.interleave) give the written loops' numbers bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from symnn.codegen import kernel
from symnn.codegen.loops import trace
from symnn.codegen.passes.blas import INTERLEAVE, InterleavePlan
from symnn.codegen.registry import factory


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(4, 16, 5, 7), (3, 11, 4, 4), (2, 3, 6, 5), (1, 8, 1, 1)])
def test_interleaved_bias_gradient_is_the_written_sum_bit_for_bit(shape, dtype):
    G = np.random.default_rng(sum(shape)).normal(size=shape).astype(dtype) * 1e3
    written, interleaved = np.empty(shape[1], dtype), np.empty(shape[1], dtype)
    kernel("conv2d.layer_grad_bias").dispatcher(G, written)
    kernel("conv2d.layer_grad_bias[unfold]").dispatcher(G, interleaved)
    assert written.tobytes() == interleaved.tobytes()


def test_interleave_applies_only_to_the_unfold_compilation():
    [[(name, plan)]] = trace(factory("conv2d.layer_grad_bias[unfold]")())
    assert name == "blas" and isinstance(plan, InterleavePlan) and INTERLEAVE > 1
    assert trace(factory("conv2d.layer_grad_bias")()) == [[]]
    source = kernel("conv2d.layer_grad_bias[unfold]").source
    assert "acc7 += G[t, 8*fb + 7, i, j]" in source and "np.dot" not in source


def test_conv2d_unfold_kernels_run_the_interleaved_bias_gradient():
    from symnn.nn.cnn_layers import Conv2D

    layer = Conv2D(2, 3, 3)
    assert layer.unfold_kernels[2].spec.name == "conv2d.layer_grad_bias[unfold]"
    assert layer.train_kernels[2].spec.name == "conv2d.layer_grad_bias"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("filters", [4, 16])  # float64: C·3·3 = 72 >= FLIP_ASPECT·4 (Cᵀ), < FLIP_ASPECT·16 (C)
def test_unfolded_kernel_gradient_either_way_round_is_the_sum(dtype, filters):
    from symnn.codegen.passes.unfold import FLIP_ASPECT, UNFOLD_MIN

    n, c, h = 8, 8, 14
    assert n * filters * c * 9 * (h - 2) ** 2 >= UNFOLD_MIN and (72 >= FLIP_ASPECT * filters) == (filters == 4)
    rng = np.random.default_rng(filters)
    x, g = rng.normal(size=(n, c, h, h)).astype(dtype), rng.normal(size=(n, filters, h - 2, h - 2)).astype(dtype)
    k = np.zeros((filters, c, 3, 3), dtype)
    dk = kernel("conv2d.layer_grad_kernel[unfold,k_h=3,k_w=3,s=1]")(g, x, k, 1)
    want = np.zeros(k.shape)
    for u in range(3):
        for v in range(3):
            want[:, :, u, v] = np.einsum("tfij,tcij->fc", g, x[:, :, u : u + h - 2, v : v + h - 2], dtype=np.float64)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(dk, want, rtol=tol, atol=tol * np.abs(want).max())


@pytest.mark.parametrize("layout", ["C", "strided", "F"])
def test_unfolded_gradients_read_g_as_it_lies_in_any_layout(layout):
    """G[t] is the (F, H_out·W_out) matrix itself (a view, no gathering copy): a strided or
    Fortran-ordered G gives the same gradients."""
    from symnn.codegen.specialise import specialised

    n, c, f, h = 4, 8, 16, 14
    rng = np.random.default_rng(5)
    x, k = rng.normal(size=(n, c, h, h)), rng.normal(size=(f, c, 3, 3))
    g = rng.normal(size=(n, f, h - 2, h - 2))
    given = {"C": g, "F": np.asfortranarray(g), "strided": np.repeat(g, 2, axis=1)[:, ::2]}[layout]
    assert np.array_equal(given, g)
    for name, args in (("grad_kernel", (x, k)), ("grad_input", (k, x))):
        unfolded = specialised(f"conv2d.layer_{name}", unfold=True, k_h=3, k_w=3, s=1)
        assert "np.ascontiguousarray(G[" in unfolded.source and ".reshape(" in unfolded.source
        exact = specialised(f"conv2d.layer_{name}", exact=True, k_h=3, k_w=3, s=1)
        np.testing.assert_allclose(unfolded(given, *args, 1), exact(g, *args, 1), rtol=1e-12, atol=1e-12)


def _written_forward(x, k, b):
    """The forward's written sums in NumPy, in their order: per element 0.0, then for each channel
    c, row m, column n `+= K·X` (float32 stays float32), then `+ b`."""
    n, _, h, w = x.shape
    y = np.zeros((n, k.shape[0], h - 2, w - 2), x.dtype)
    for c in range(x.shape[1]):
        for m in range(3):
            for q in range(3):
                y += k[None, :, c, m, q, None, None] * x[:, None, c, m : m + h - 2, q : q + w - 2]
    return y + b[None, :, None, None]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(32, 8, 28, 28), (32, 1, 8, 8), (4, 1, 10, 10), (2, 3, 5, 30), (3, 2, 3, 3)])
@pytest.mark.parametrize("layout", ["C", "F"])
def test_forward_rows_or_flat_pixels_is_the_written_sum_bit_for_bit(shape, dtype, layout):
    """The specialised forward (window pass: the pixels row by row, or one flat loop along X's rows,
    chosen at run time) gives the written sums bit for bit, in either branch and any layout of X."""
    from symnn.codegen.passes.window import VECTOR_BYTES

    n, c, h, w = shape
    rng = np.random.default_rng(sum(shape))
    x, k, b = (rng.normal(size=s).astype(dtype) for s in ((n, c, h, w), (4, c, 3, 3), (4,)))
    lanes = VECTOR_BYTES // x.itemsize
    npix = (h - 3) * w + w - 2
    flat = npix // lanes + npix % lanes < (h - 2) * ((w - 2) // lanes + (w - 2) % lanes)
    assert flat == (h == 28 or h == 8 or (h == 5 and dtype == np.float32))  # both branches run
    given = np.asfortranarray(x) if layout == "F" else x
    want = _written_forward(x, k, b)
    for name in ("conv2d.layer_forward[k_h=3,k_w=3,s=1]", "conv2d.layer_forward[unfold,k_h=3,k_w=3,s=1]"):
        got = kernel(name)(given, k, b, 1)
        assert got.dtype == dtype and got.tobytes() == want.tobytes()


def test_flat_pixels_apply_to_the_unit_stride_forward_only():
    [[(name, plan)]] = trace(factory("conv2d.layer_forward[k_h=3,k_w=3,s=1]")())
    assert name == "window" and plan.flat is not None and plan.flat.offsets[-1] == (2, 2)
    source = kernel("conv2d.layer_forward[k_h=3,k_w=3,s=1]").source
    assert "xf = X.ravel()" in source and "buf[max(i*wx, 0) + j] + b[f]" in source
    from symnn.codegen.specialise import specialised

    [[(name, plan)]] = trace(specialised("conv2d.layer_forward", k_h=3, k_w=3, s=2).spec)
    assert name == "window" and plan.flat is None  # X[t, c, 2·i + m, 2·j + n]: the rows
