"""The loop passes of symnn.codegen.passes: for each, a spec it rewrites (its plan, and the
kernel's values against NumPy) and one it leaves alone; and the order they are tried in."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

from symnn.codegen import KernelSpec, Output, build, kernel
from symnn.codegen.loops import trace
from symnn.codegen.passes import PASSES, names
from symnn.codegen.passes.blas import BLAS_MIN, BlasPlan
from symnn.codegen.passes.hoist import HoistPlan
from symnn.codegen.passes.jam import JamPlan
from symnn.codegen.passes.scatter import ScatterPlan
from symnn.codegen.passes.unfold import UNFOLD_DEPTH, UNFOLD_MIN, GemmPlan
from symnn.codegen.passes.window import ScatterWindowPlan, WindowPlan
from symnn.codegen.registry import factory
from symnn.codegen.specialise import specialised

i, j, k, m, n, c, d, p, q = sp.symbols("i j k m n c d p q", integer=True)
N, n_in, n_out, H, W, C, D, kh, kw = sp.symbols("N n_in n_out H W C D k_h k_w", integer=True, positive=True)
A, Wt, b, Z = (sp.IndexedBase(x) for x in ("A", "Wt", "b", "Z"))
X, K, G, Y, dX, dK = (sp.IndexedBase(x) for x in ("X", "K", "G", "Y", "dX", "dK"))
rng = np.random.default_rng(11)


def applied(spec: KernelSpec) -> list[tuple[str, object]]:
    """The (pass name, plan) pairs that wrote the spec's one output."""
    (out,) = trace(spec)
    return out


def test_passes_are_tried_in_their_named_order():
    assert names() == ["fold", "scatter-window", "scatter", "blas", "unfold", "hoist", "window", "jam"]
    assert [p.name for p in PASSES] == names() and len(set(names())) == len(PASSES)
    for rewrite in PASSES:
        assert callable(rewrite.plan) and callable(rewrite.emit) and rewrite.doc
    for plan in (BlasPlan, GemmPlan, HoistPlan, JamPlan, ScatterPlan, WindowPlan, ScatterWindowPlan):
        assert dataclasses.is_dataclass(plan) and plan.__dataclass_params__.frozen


# -- blas -----------------------------------------------------------------------------------------
def _dense(name: str, parallel: bool = False) -> KernelSpec:
    return KernelSpec(
        name,
        [A, Wt, b],
        [Output(Z, (i, j), sp.Sum(A[i, k] * Wt[j, k], (k, 0, n_in - 1)) + b[j])],
        shapes={N: (A, 0), n_in: (A, 1), n_out: (Wt, 0)},
        out_shapes={Z: (N, n_out)},
        parallel=parallel,
    )


def test_blas_takes_a_whole_axis_matrix_product():
    spec = _dense("test.passes.blas")
    [(name, plan)] = applied(spec)
    assert name == "blas" and isinstance(plan, BlasPlan)
    assert plan.call == "np.dot(A, Wt.T, Z)"
    assert plan.condition == f"N*n_in*n_out >= {BLAS_MIN} and Wt.shape[1] == n_in"  # A's axes fix the rest
    assert plan.rest == b[j]
    kern = build(spec)
    for size in [(2, 3, 4), (16, 32, 16)]:  # below and above BLAS_MIN
        a, w, bias = rng.normal(size=size[:2]), rng.normal(size=size[2:] + size[1:2]), rng.normal(size=size[2])
        np.testing.assert_allclose(kern(a, w, bias), a @ w.T + bias, rtol=1e-12, atol=1e-12)


def test_blas_leaves_a_parallel_kernel_to_its_loops():
    spec = _dense("test.passes.blas_parallel", parallel=True)
    assert applied(spec) == []
    kern = build(spec)
    assert "np.dot" not in kern.source
    a, w, bias = rng.normal(size=(16, 32)), rng.normal(size=(16, 32)), rng.normal(size=16)
    np.testing.assert_allclose(kern(a, w, bias), a @ w.T + bias, rtol=1e-12, atol=1e-12)


# -- hoist ----------------------------------------------------------------------------------------
def test_hoist_writes_a_sum_of_no_loop_variable_before_the_loops():
    spec = KernelSpec(
        "test.passes.hoist",
        [X],
        [Output(Y, (i,), X[i] / sp.Sum(X[k], (k, 0, N - 1)))],
        shapes={N: (X, 0)},
        out_shapes={Y: (N,)},
    )
    [(name, plan)] = applied(spec)
    assert name == "hoist" and isinstance(plan, HoistPlan)
    assert plan.sums == (sp.Sum(X[k], (k, 0, N - 1)),)
    kern = build(spec)
    body = kern.source[kern.source.index("def test_passes_hoist") :]
    assert body.index("for k in") < body.index("for i in")  # the Sum once, before the loop
    x = rng.uniform(0.5, 1.5, size=7)
    np.testing.assert_allclose(kern(x), x / x.sum(), rtol=1e-14)


def test_hoist_leaves_a_sum_over_an_outer_loop_to_the_loop_writer():
    spec = KernelSpec(
        "test.passes.no_hoist",
        [X],
        [Output(Y, (i, j), X[i, j] / sp.Sum(X[i, k], (k, 0, W - 1)))],
        shapes={H: (X, 0), W: (X, 1)},
        out_shapes={Y: (H, W)},
    )
    assert applied(spec) == []  # written once per row, inside the loop over i
    x = rng.uniform(0.5, 1.5, size=(3, 5))
    np.testing.assert_allclose(build(spec)(x), x / x.sum(axis=1, keepdims=True), rtol=1e-14)


# -- window ---------------------------------------------------------------------------------------
def _conv_layer(name: str, size) -> KernelSpec:
    body = sp.Sum(K[c, d, m, n] * X[d, i + m, j + n], (d, 0, D - 1), (m, 0, size[0] - 1), (n, 0, size[1] - 1))
    shapes = {C: (K, 0), D: (X, 0), H: (X, 1), W: (X, 2)}
    if size == (kh, kw):
        shapes.update({kh: (K, 2), kw: (K, 3)})
    return KernelSpec(
        name,
        [X, K, b],
        [Output(Y, (c, i, j), body + b[c])],
        shapes=shapes,
        out_shapes={Y: (C, H - size[0] + 1, W - size[1] + 1)},
    )


def _conv_reference(x, kk, bias):
    c_out, _, a, e = kk.shape
    ho, wo = x.shape[1] - a + 1, x.shape[2] - e + 1
    out = np.zeros((c_out, ho, wo))
    for u in range(a):
        for v in range(e):
            out += np.einsum("cd,dij->cij", kk[:, :, u, v], x[:, u : u + ho, v : v + wo])
    return out + bias[:, None, None]


def test_window_reads_a_fixed_windows_coefficients_once_per_channel():
    spec = _conv_layer("test.passes.window", (3, 3))
    [(name, plan)] = applied(spec)
    assert name == "window" and isinstance(plan, WindowPlan)
    assert [v for v, _, _ in plan.outer] == [c] and [v for v, _, _ in plan.inner] == [i, j]
    assert [v for v, _, _ in plan.runtime] == [d] and [v for v, _, _ in plan.fixed] == [m, n]
    assert plan.w == K[c, d, m, n] and plan.rest == b[c]
    x, kk, bias = rng.normal(size=(2, 6, 5)), rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
    np.testing.assert_allclose(build(spec)(x, kk, bias), _conv_reference(x, kk, bias), rtol=1e-12, atol=1e-12)


def test_window_leaves_a_run_time_window_to_the_loops():
    spec = _conv_layer("test.passes.no_window", (kh, kw))
    assert applied(spec) == []
    x, kk, bias = rng.normal(size=(2, 6, 5)), rng.normal(size=(3, 2, 2, 3)), rng.normal(size=3)
    np.testing.assert_allclose(build(spec)(x, kk, bias), _conv_reference(x, kk, bias), rtol=1e-12, atol=1e-12)


# -- jam ------------------------------------------------------------------------------------------
def _kernel_gradient(name: str, fixed: bool) -> KernelSpec:
    a, e = (3, 3) if fixed else (kh, kw)
    body = sp.Sum(G[i, j] * X[i + m, j + n], (i, 0, H - a), (j, 0, W - e))
    shapes = {H: (X, 0), W: (X, 1)} if fixed else {H: (X, 0), W: (X, 1), kh: (K, 0), kw: (K, 1)}
    return KernelSpec(
        name, [G, X] + ([] if fixed else [K]), [Output(dK, (m, n), body)], shapes=shapes, out_shapes={dK: (a, e)}
    )


def _kernel_gradient_reference(g, x, a, e):
    ho, wo = g.shape
    return np.array([[np.sum(g * x[u : u + ho, v : v + wo]) for v in range(e)] for u in range(a)])


def test_jam_accumulates_a_fixed_inner_loop_in_one_pass_of_the_sum():
    spec = _kernel_gradient("test.passes.jam", fixed=True)
    [(name, plan)] = applied(spec)
    assert name == "jam" and isinstance(plan, JamPlan)
    assert plan.outer == ((m, 0, 2),) and plan.inner == ((n, 0, 2),)
    x = rng.normal(size=(6, 7))
    g = rng.normal(size=(4, 5))
    np.testing.assert_allclose(build(spec)(g, x), _kernel_gradient_reference(g, x, 3, 3), rtol=1e-12, atol=1e-12)


def test_jam_leaves_inner_loops_of_run_time_length():
    spec = _kernel_gradient("test.passes.no_jam", fixed=False)
    assert applied(spec) == []
    x, g, kk = rng.normal(size=(6, 7)), rng.normal(size=(5, 5)), np.zeros((2, 3))
    np.testing.assert_allclose(build(spec)(g, x, kk), _kernel_gradient_reference(g, x, 2, 3), rtol=1e-12, atol=1e-12)


# -- scatter and scatter-window ---------------------------------------------------------------------
def _input_gradient(name: str, fixed: bool) -> KernelSpec:
    """∂L/∂X of the unit-stride full convolution: SymPy's deltas collapse into a gather per element."""
    a, e = (3, 3) if fixed else (kh, kw)
    forward = sp.Sum(X[i + m, j + n] * K[m, n], (m, 0, a - 1), (n, 0, e - 1))
    loss = sp.Sum(G[i, j] * forward, (i, 0, H - a), (j, 0, W - e))
    shapes = {} if fixed else {kh: (K, 0), kw: (K, 1)}
    return KernelSpec(
        name, [G, K, H, W], [Output(dX, (p, q), sp.diff(loss, X[p, q]))], shapes=shapes, out_shapes={dX: (H, W)}
    )


def _layer_input_gradient(g, kk, x, stride):
    """∂L/∂X of the convolutional layer: every δ entry spread over its window, in NumPy."""
    out = np.zeros_like(x)
    _, _, ho, wo = g.shape
    for u in range(kk.shape[2]):
        for v in range(kk.shape[3]):
            out[:, :, u : u + stride * ho : stride, v : v + stride * wo : stride] += np.einsum(
                "tfij,fc->tcij", g, kk[:, :, u, v]
            )
    return out


def _layer_case(stride, size):
    x = rng.normal(size=(2, 3, 7, 8))
    kk = rng.normal(size=(4, 3, *size))
    g = rng.normal(size=(2, 4, (7 - size[0]) // stride + 1, (8 - size[1]) // stride + 1))
    return g, kk, x, stride


def test_scatter_adds_every_term_where_it_belongs():
    spec = factory("conv2d.layer_grad_input")()
    [(name, plan)] = applied(spec)
    assert name == "scatter" and isinstance(plan, ScatterPlan)
    assert plan.op == "+=" and len(plan.zero) == 4 and len(plan.loops) == 7
    g, kk, x, stride = _layer_case(2, (3, 2))
    np.testing.assert_allclose(
        kernel("conv2d.layer_grad_input")(g, kk, x, stride),
        _layer_input_gradient(g, kk, x, stride),
        rtol=1e-12,
        atol=1e-12,
    )


def test_scatter_window_unrolls_a_fixed_window():
    name3 = "conv2d.layer_grad_input[k_h=3,k_w=3,s=1]"
    [(name, plan)] = applied(factory(name3)())
    assert name == "scatter-window" and isinstance(plan, ScatterWindowPlan)
    assert [(v.name, lo, hi) for v, lo, hi in plan.window] == [("p_off", 0, 2), ("q_off", 0, 2)]
    assert plan.w.base.label.name == "K" and plan.x.base.label.name == "G"
    g, kk, x, stride = _layer_case(1, (3, 3))
    np.testing.assert_allclose(
        kernel(name3)(g, kk, x, stride), _layer_input_gradient(g, kk, x, stride), rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize("fixed", [False, True], ids=["run-time window", "3x3"])
def test_scatter_passes_leave_a_gathering_output_alone(fixed):
    spec = _input_gradient(f"test.passes.gather_{int(fixed)}", fixed)
    assert applied(spec) == []
    g, kk = rng.normal(size=(4, 5)), rng.normal(size=(3, 3) if fixed else (2, 3))
    reference = np.zeros((4 + kk.shape[0] - 1, 5 + kk.shape[1] - 1))
    for u in range(kk.shape[0]):
        for v in range(kk.shape[1]):
            reference[u : u + 4, v : v + 5] += g * kk[u, v]
    np.testing.assert_allclose(build(spec)(g, kk, *reference.shape), reference, rtol=1e-12, atol=1e-12)


# -- unfold and fold --------------------------------------------------------------------------------
CONV = ("forward", "grad_kernel", "grad_input")


def _conv_oracle(x, kk, bias, g, s):
    """Y, dK and dX of the strided convolutional layer in NumPy (einsum over the window offsets)."""
    n, _, h, w = x.shape
    f, c, a, e = kk.shape
    ho, wo = (h - a) // s + 1, (w - e) // s + 1
    y, dk = np.zeros((n, f, ho, wo)), np.zeros_like(kk)
    for u in range(a):
        for v in range(e):
            window = x[:, :, u : u + s * (ho - 1) + 1 : s, v : v + s * (wo - 1) + 1 : s]
            y += np.einsum("fc,tcij->tfij", kk[:, :, u, v], window)
            dk[:, :, u, v] = np.einsum("tfij,tcij->fc", g, window)
    return y + bias[None, :, None, None], dk, _layer_input_gradient(g, kk, x, s)


def _large_case(s: int, dtype=np.float64):
    """A layer above UNFOLD_MIN multiply-adds, C_in·3·3 = 144 >= UNFOLD_DEPTH deep."""
    h = 10 if s == 1 else 17
    x, kk, bias = rng.normal(size=(4, 16, h, h)), rng.normal(size=(8, 16, 3, 3)), rng.normal(size=8)
    g = rng.normal(size=(4, 8, 8, 8))
    assert 4 * 8 * 16 * 8 * 8 * 9 >= UNFOLD_MIN and 16 * 9 >= UNFOLD_DEPTH
    return [a.astype(dtype) for a in (x, kk, bias, g)]


def test_unfold_and_fold_read_the_convolution_and_its_gradients_as_matrix_products():
    """Y = Σ K·X[t, c, s·i + m, s·j + n]: per sample t, K as a (F, C·3·3) matrix times the unfolded
    windows (C·3·3, H_out·W_out); dK: per sample, G_t (F, H_out·W_out) times the windows stored the
    other way round (read along X's rows) and passed transposed, the samples' products added up;
    dX: Kᵀ·G_t, then every entry added where its window puts it."""
    plans = {n: applied(factory(f"conv2d.layer_{n}[unfold,k_h=3,k_w=3,s=1]")()) for n in CONV}
    (fw, plan), *_ = plans["forward"]
    assert fw == "unfold" and isinstance(plan, GemmPlan) and plan.kind == "unfold"

    def names_of(loops):
        return [v.name for v, _, _ in loops]

    assert (names_of(plan.lead), names_of(plan.outer)) == (["t"], [])
    assert (names_of(plan.g1), names_of(plan.r), names_of(plan.g2)) == (["f"], ["c", "m", "n"], ["i", "j"])
    assert plan.p1.factor.base.label.name == "K" and not plan.p1.transposed and not plan.p1.per
    assert plan.p2.factor.base.label.name == "X" and not plan.p2.transposed and [v.name for v in plan.p2.per] == ["t"]
    assert "b" in str(plan.rest)
    (gk, plan), *_ = plans["grad_kernel"]
    assert gk == "unfold" and (names_of(plan.lead), names_of(plan.outer)) == ([], ["t"])
    assert (names_of(plan.g1), names_of(plan.r), names_of(plan.g2)) == (["f'"], ["i", "j"], ["c'", "p", "q"])
    assert plan.p2.factor.base.label.name == "X" and plan.p2.transposed
    (gi, plan), (after, _) = plans["grad_input"]
    assert gi == "fold" and after == "scatter-window" and names_of(plan.lead) == ["t'"] and names_of(plan.r) == ["f"]
    assert (names_of(plan.g1), names_of(plan.g2)) == (["c'", "p_off", "q_off"], ["i", "j"])
    assert plan.p1.factor.base.label.name == "K" and plan.p1.transposed
    for n in CONV:
        source = kernel(f"conv2d.layer_{n}[unfold,k_h=3,k_w=3,s=1]").source
        assert "np.dot(" in source and "else:  # small sizes: the loops, in the written order" in source


@pytest.mark.parametrize("s", [1, 2], ids=["stride 1, specialised and run-time window", "stride 2, run-time window"])
def test_unfold_kernels_above_unfold_min_agree_with_numpy(s):
    x, kk, bias, g = _large_case(s)
    y, dk, dx = _conv_oracle(x, kk, bias, g, s)
    for tag in ["[unfold]"] + (["[unfold,k_h=3,k_w=3,s=1]"] if s == 1 else []):
        register = tag == "[unfold]"
        fw, gk, gi = (
            specialised(f"conv2d.layer_{n}", unfold=True) if register else kernel(f"conv2d.layer_{n}{tag}")
            for n in CONV
        )
        np.testing.assert_allclose(fw(x, kk, bias, s), y, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gk(g, x, kk, s), dk, rtol=1e-12, atol=1e-11)
        np.testing.assert_allclose(gi(g, kk, x, s), dx, rtol=1e-12, atol=1e-12)


def test_unfold_kernels_above_unfold_min_in_float32():
    x, kk, bias, g = _large_case(1, np.float32)
    y, dk, dx = _conv_oracle(*(a.astype(np.float64) for a in (x, kk, bias, g)), 1)
    fw, gk, gi = (kernel(f"conv2d.layer_{n}[unfold,k_h=3,k_w=3,s=1]") for n in CONV)
    for got, want in ((fw(x, kk, bias, 1), y), (gk(g, x, kk, 1), dk), (gi(g, kk, x, 1), dx)):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


def test_written_order_kernels_keep_it_above_unfold_min():
    """The kernels without `unfold` (conv2d.layer_*[k_h=3,k_w=3,s=1], what small calls and
    exact_order=True run) never call BLAS; bit for bit the written sums at any size (Y: 0, + K·X
    for c, m, n in order, then + b; dK: Σ_t Σ_i Σ_j; dX: Σ_f Σ_i Σ_j per pixel)."""
    x, kk, bias, g = _large_case(1)
    fw, gk, gi = (kernel(f"conv2d.layer_{n}[k_h=3,k_w=3,s=1]") for n in CONV)
    for k in (fw, gk, gi):
        assert "np.dot(" not in k.source
    n, f, ho, wo = g.shape
    c = x.shape[1]
    y = np.zeros((n, f, ho, wo))
    for cc in range(c):
        for u in range(3):
            for v in range(3):
                y += kk[None, :, cc, u, v, None, None] * x[:, None, cc, u : u + ho, v : v + wo]
    assert np.array_equal(fw(x, kk, bias, 1), y + bias[None, :, None, None])
    dk = np.zeros_like(kk)
    for u in range(3):
        for v in range(3):
            acc = np.zeros((f, c))
            for t in range(n):
                for i_ in range(ho):
                    for j_ in range(wo):
                        acc += g[t, :, i_, j_, None] * x[t, None, :, i_ + u, j_ + v]
            dk[:, :, u, v] = acc
    assert np.array_equal(gk(g, x, kk, 1), dk)
    dx = np.zeros_like(x)
    for ff in range(f):
        for i_ in range(ho):
            for j_ in range(wo):
                dx[:, :, i_ : i_ + 3, j_ : j_ + 3] += g[:, ff, i_, j_, None, None, None] * kk[None, ff]
    assert np.array_equal(gi(g, kk, x, 1), dx)
    blas = kernel("conv2d.layer_forward[unfold,k_h=3,k_w=3,s=1]")(x, kk, bias, 1)
    np.testing.assert_allclose(blas, y + bias[None, :, None, None], rtol=1e-12, atol=1e-12)


def test_unfold_and_fold_apply_only_to_specs_that_ask_and_are_not_exact_or_parallel():
    from symnn.codegen.specialise import register_specialised

    spec = factory(register_specialised("conv2d.layer_forward", exact=True, unfold=True, k_h=3, k_w=3, s=1))()
    assert spec.exact and spec.unfold and [name for name, _ in applied(spec)] == ["window"]
    spec = factory(register_specialised("conv2d.layer_grad_input", exact=True, unfold=True, k_h=3, k_w=3, s=1))()
    assert [name for name, _ in applied(spec)] == ["scatter-window"]
    assert [name for name, _ in applied(factory("conv2d.layer_forward[k_h=3,k_w=3,s=1]")())] == ["window"]
    spec = factory("conv2d.layer_forward[unfold,k_h=3,k_w=3,s=1]")()
    parallel = dataclasses.replace(spec, name="test.unfold.parallel", parallel=True)
    assert [name for name, _ in applied(parallel)] == ["window"]  # no unfold: the loops, prange outermost
    dense = dataclasses.replace(_dense("test.passes.unfold_dense"), unfold=True)  # a whole-axis product: blas's
    assert [name for name, _ in applied(dense)] == ["blas"]


@pytest.mark.parametrize("h", [8, 10], ids=["flat pixels", "rows"])
def test_window_in_a_parallel_kernel_gives_the_serial_numbers(h):
    """The specialised forward with a prange over the samples (one flat buffer per iteration, or
    the rows) gives the serial kernel's numbers bit for bit."""
    spec = dataclasses.replace(
        factory("conv2d.layer_forward[k_h=3,k_w=3,s=1]")(), name="test.window.par", parallel=True
    )
    [(name, plan)] = applied(spec)
    assert name == "window" and plan.flat is not None and "prange(N)" in build(spec).source
    rng = np.random.default_rng(h)
    x, kk, b = rng.normal(size=(3, 2, h, h)), rng.normal(size=(4, 2, 3, 3)), rng.normal(size=4)
    serial = kernel("conv2d.layer_forward[k_h=3,k_w=3,s=1]")(x, kk, b, 1)
    assert build(spec)(x, kk, b, 1).tobytes() == serial.tobytes()
