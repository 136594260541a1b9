"""The input gradient's fold pass in float32: the scatter form as a full correlation over the
zero-framed G (symnn.codegen.passes.unfold.Correlation), which adds every element's terms in the
written order, so it gives the written-order kernel's numbers bit for bit; float64 keeps
np.dot + col2im (BLAS's order, close to the written sums)."""

from __future__ import annotations

import numpy as np
import pytest

from symnn.codegen.loops import trace
from symnn.codegen.passes.unfold import UNFOLD_MIN, Correlation, GemmPlan
from symnn.codegen.registry import factory
from symnn.codegen.specialise import specialised


def _grad_input(unfold: bool):
    if unfold:
        return specialised("conv2d.layer_grad_input", unfold=True, k_h=3, k_w=3, s=1)
    return specialised("conv2d.layer_grad_input", exact=True, k_h=3, k_w=3, s=1)


# (n, c, f, h, w, extra): X is (n, c, h + extra, w + extra), G (n, f, h - 2, w - 2); the flat
# pixel loop runs over 28 x 28 planes (rows of 28 end in a 4-wide tail), over 8 x 8 ones (rows
# that fill the vectors), and a dX larger than G's windows reach (its last rows and columns stay 0)
SHAPES = [(32, 8, 16, 28, 28, 0), (8, 8, 16, 8, 8, 0), (16, 3, 5, 22, 17, 2)]


@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("shape", SHAPES, ids=["28x28", "8x8", "larger dX"])
def test_float32_input_gradient_is_the_written_order_bit_for_bit(shape, layout):
    n, c, f, h, w, extra = shape
    assert 9 * n * c * f * (h - 2) * (w - 2) >= UNFOLD_MIN  # the fold branch runs
    rng = np.random.default_rng(sum(shape))
    g = rng.normal(size=(n, f, h - 2, w - 2)).astype(np.float32)
    k = rng.normal(size=(f, c, 3, 3)).astype(np.float32)
    x = np.empty((n, c, h + extra, w + extra), np.float32)
    given_g, given_k = (np.asfortranarray(a) if layout == "F" else a for a in (g, k))
    got = _grad_input(True)(given_g, given_k, x, 1)
    want = _grad_input(False)(g, k, x, 1)
    assert got.dtype == np.float32 and got.tobytes() == want.tobytes()
    if extra:
        assert not got[:, :, h:, :].any() and not got[:, :, :, w:].any()
    reference = np.zeros((n, c, h + extra, w + extra))
    for p in range(3):
        for q in range(3):
            part = np.einsum("tfij,fc->tcij", g, k[:, :, p, q], dtype=np.float64)
            reference[:, :, p : p + h - 2, q : q + w - 2] += part
    np.testing.assert_allclose(got, reference, rtol=1e-4, atol=1e-4 * np.abs(reference).max())


@pytest.mark.parametrize("layout", ["C", "F"])
def test_float64_input_gradient_keeps_the_products_and_is_the_sum(layout):
    n, c, f, h, w, _ = SHAPES[0]
    rng = np.random.default_rng(1)
    g, k = rng.normal(size=(n, f, h - 2, w - 2)), rng.normal(size=(f, c, 3, 3))
    x = np.empty((n, c, h, w))
    given = np.asfortranarray(g) if layout == "F" else g
    got, want = _grad_input(True)(given, k, x, 1), _grad_input(False)(g, k, x, 1)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_the_correlation_applies_to_the_unit_stride_fixed_window_only():
    [[(name, plan), _]] = trace(factory("conv2d.layer_grad_input[unfold,k_h=3,k_w=3,s=1]")())
    assert name == "fold" and isinstance(plan, GemmPlan) and isinstance(plan.direct, Correlation)
    assert plan.direct.window.flat is not None and plan.direct.window.flat.offsets[0] == (0, 0)
    assert [str(e) for e in plan.direct.shape] == ["F", "H_out + 5", "W_out + 2"]  # rows share their frame
    source = _grad_input(True).source
    assert "if dX.itemsize == 4:" in source and "np.dot(" in source  # float64: the products
    for other in (
        specialised("conv2d.layer_grad_input", unfold=True, k_h=3, k_w=3, s=2).spec,  # G[.., 2·i + p]
        specialised("conv2d.layer_grad_input", unfold=True).spec,  # a run-time window
    ):
        [[(name, plan), *_]] = trace(other)
        assert name == "fold" and plan.direct is None
