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
