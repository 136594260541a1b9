"""Generated kernels compute what their SymPy expressions say: elementwise kernels against
SymPy's own evaluation (mpmath), the conv kernel and its SymPy-derived gradients against NumPy
loop references and finite differences. Kernels compile once per session (fixtures)."""

from __future__ import annotations

import re

import mpmath
import numpy as np
import pytest
import sympy as sp
from conftest import central_differences
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy.codegen.cfunctions import log1p

from symnn.codegen import KernelSpec, Output, build, elementwise, kernel
from symnn.errors import InputError, UnknownNameError

z, y = sp.Symbol("z", real=True), sp.Symbol("y", real=True)
n_batch = sp.Symbol("n", positive=True)
i, j, m, n, p, q = sp.symbols("i j m n p q", integer=True)
H, W, kh, kw, s = sp.symbols("H W k_h k_w s", integer=True, positive=True)
Ho, Wo = sp.symbols("H_o W_o", integer=True, positive=True)
X, K, G, Y = (sp.IndexedBase(c) for c in "XKGY")
dX, dK = sp.IndexedBase("dX"), sp.IndexedBase("dK")

SIG = 1 / (1 + sp.exp(-z))
# softplus in the form that stays accurate for large |z| (a Piecewise, as symnn's stable())
SOFTPLUS = sp.Piecewise((z + log1p(sp.exp(-z)), z > 0), (log1p(sp.exp(z)), True))
ELEMENTWISE = {
    "sigmoid": ([z], [SIG, sp.diff(SIG, z)]),
    "tanh": ([z], [sp.tanh(z), sp.diff(sp.tanh(z), z)]),
    "relu": ([z], [sp.Max(0, z), sp.Heaviside(z, 0)]),
    "softplus": ([z], [SOFTPLUS, SIG]),
    "cross_entropy": ([z, y, n_batch], [sp.diff(-(y * sp.log(z) + (1 - y) * sp.log(1 - z)), z) / n_batch]),
}


@pytest.fixture(scope="session")
def ew():
    return {name: build(elementwise(f"test.{name}", args, exprs)) for name, (args, exprs) in ELEMENTWISE.items()}


def oracle(args, expr):
    f = sp.lambdify(args, expr, modules=["mpmath"])

    def value(*xs):
        with mpmath.workdps(40):
            return float(f(*[mpmath.mpf(float(x)) for x in xs]))

    return value


def close(got, want, rel=1e-12):
    got, want = np.asarray(got, float), np.asarray(want, float)
    return np.all(np.abs(got - want) <= rel * np.maximum(np.abs(want), 1e-300))


# -- elementwise -------------------------------------------------------------------------------
# The kernels evaluate each expression as written. 1 − tanh²(z), SymPy's derivative of tanh,
# cancels catastrophically for |z| > 4 in any float64 evaluation (relative error ≈ 1e-16/(1 − tanh²)),
# so tanh is compared where its form is well conditioned.
DOMAIN = {"sigmoid": 40.0, "tanh": 4.0, "relu": 40.0, "softplus": 40.0}


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-1, 1), min_size=1, max_size=8))
def test_elementwise_match_sympy(ew, unit):
    for name, scale in DOMAIN.items():
        zs = np.array(unit) * scale
        args, exprs = ELEMENTWISE[name]
        outs = ew[name](zs)
        for out, expr in zip(outs, exprs):
            want = [oracle(args, expr)(v) for v in zs]
            assert close(out, want), (name, expr, zs, out, want)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.floats(0.01, 0.99), st.floats(0, 1)), min_size=1, max_size=8), st.integers(1, 50))
def test_cost_gradient_matches_sympy(ew, pairs, batch):
    a, e = np.array(pairs).T
    args, (expr,) = ELEMENTWISE["cross_entropy"]
    got = ew["cross_entropy"](a, e, float(batch))
    want = [oracle(args, expr)(x, t, batch) for x, t in zip(a, e)]
    assert close(got, want)


def test_relu_derivative_is_zero_at_zero(ew):
    a, da = ew["relu"](np.array([-1.0, 0.0, 2.0]))
    assert a.tolist() == [0.0, 0.0, 2.0] and da.tolist() == [0.0, 0.0, 1.0]


def test_cse_computes_exp_once(ew):
    src = ew["sigmoid"].source
    body = src.split("def test_sigmoid")[1]
    assert body.count("math.exp(") == 1, body


def test_elementwise_shapes_scalars_dtypes_and_out(ew):
    k = ew["sigmoid"]
    x = np.linspace(-2, 2, 12).reshape(3, 4)
    a, da = k(x)
    assert a.shape == (3, 4) and a.dtype == np.float64
    a32, _ = k(x.astype(np.float32))
    assert a32.dtype == np.float32 and np.allclose(a32, a, atol=1e-6)
    a0, _ = k(0.0)
    assert a0 == 0.5
    outs = (np.empty((3, 4)), np.empty((3, 4)))
    got = k(x, out=outs)
    assert got[0] is outs[0] and np.array_equal(outs[0], a)
    t = np.empty((4, 3)).T  # a non-contiguous out
    k(x, out=(t, outs[1]))
    assert np.array_equal(t, a)
    ce = ew["cross_entropy"]  # array, array, python scalar
    assert ce(np.array([0.25]), np.array([1]), 2).shape == (1,)
    with pytest.raises(InputError):
        k(x, x)
    with pytest.raises(InputError):
        ce(np.ones(3) / 2, np.ones(4), 1.0)


def test_elementwise_out_may_alias_an_input():
    w, g, eta = sp.symbols("w g eta", real=True)
    k = build(elementwise("test.sgd", [w, g, eta], [w - eta * g]))
    param = np.array([1.0, 2.0])
    k(param, np.array([1.0, -1.0]), 0.5, out=param)
    assert param.tolist() == [0.5, 2.5]


# -- conv: forward and the gradients SymPy derives ----------------------------------------------
def corr_valid(x, k):
    hk, wk = k.shape
    out = np.zeros((x.shape[0] - hk + 1, x.shape[1] - wk + 1))
    for a in range(out.shape[0]):
        for b in range(out.shape[1]):
            out[a, b] = np.sum(x[a : a + hk, b : b + wk] * k)
    return out


def conv_full(g, k):
    hk, wk = k.shape
    out = np.zeros((g.shape[0] + hk - 1, g.shape[1] + wk - 1))
    for a in range(g.shape[0]):
        for b in range(g.shape[1]):
            out[a : a + hk, b : b + wk] += g[a, b] * k
    return out


def corr_stride(x, k, st_):
    hk, wk = k.shape
    out = np.zeros(((x.shape[0] - hk) // st_ + 1, (x.shape[1] - wk) // st_ + 1))
    for a in range(out.shape[0]):
        for b in range(out.shape[1]):
            out[a, b] = np.sum(x[a * st_ : a * st_ + hk, b * st_ : b * st_ + wk] * k)
    return out


def grad_input_stride(g, k, st_, shape):
    hk, wk = k.shape
    out = np.zeros(shape)
    for a in range(g.shape[0]):
        for b in range(g.shape[1]):
            out[a * st_ : a * st_ + hk, b * st_ : b * st_ + wk] += g[a, b] * k
    return out


@pytest.fixture(scope="session")
def conv():
    return {name: kernel(f"conv2d.{name}") for name in ("forward", "grad_kernel", "grad_input")}


@pytest.fixture(scope="session")
def conv_stride():
    ho, wo = sp.floor((H - kh) / s), sp.floor((W - kw) / s)
    fwd = sp.Sum(X[s * i + m, s * j + n] * K[m, n], (m, 0, kh - 1), (n, 0, kw - 1))
    loss = sp.Sum(G[i, j] * fwd, (i, 0, ho), (j, 0, wo))
    shapes = {kh: (K, 0), kw: (K, 1)}
    forward = build(
        KernelSpec(
            "test.conv2d_s.forward",
            [X, K, s],
            [Output(Y, (i, j), fwd)],
            shapes={H: (X, 0), W: (X, 1), **shapes},
            out_shapes={Y: (ho + 1, wo + 1)},
        )
    )
    grad_input = build(
        KernelSpec(
            "test.conv2d_s.grad_input",
            [G, K, s, H, W],
            [Output(dX, (p, q), sp.diff(loss, X[p, q]))],
            shapes=shapes,
            out_shapes={dX: (H, W)},
        )
    )
    return forward, grad_input


def test_d2l_example(conv):
    x = np.arange(9.0).reshape(3, 3)
    k = np.array([[0.0, 1.0], [2.0, 3.0]])
    assert conv["forward"](x, k).tolist() == [[19, 25], [37, 43]]


shapes2d = st.tuples(st.integers(1, 7), st.integers(1, 7), st.integers(1, 4), st.integers(1, 4)).filter(
    lambda t: t[2] <= t[0] and t[3] <= t[1]
)


@settings(max_examples=30, deadline=None)
@given(shapes2d, st.integers(0, 2**31 - 1))
def test_conv_kernels_match_numpy(conv, shape, seed):
    h, w, hk, wk = shape
    rng = np.random.default_rng(seed)
    x, k = rng.normal(size=(h, w)), rng.normal(size=(hk, wk))
    g = rng.normal(size=(h - hk + 1, w - wk + 1))
    assert np.allclose(conv["forward"](x, k), corr_valid(x, k), rtol=1e-12, atol=1e-12)
    assert np.allclose(conv["grad_kernel"](x, g), corr_valid(x, g), rtol=1e-12, atol=1e-12)
    assert np.allclose(conv["grad_input"](g, k), conv_full(g, k), rtol=1e-12, atol=1e-12)


def test_conv_gradients_match_finite_differences(conv):
    rng = np.random.default_rng(3)
    x, k = rng.normal(size=(5, 6)), rng.normal(size=(3, 2))
    g = rng.normal(size=(3, 5))

    def loss(x_, k_):
        return float(np.sum(g * conv["forward"](x_, k_)))

    fd_k = central_differences(lambda: loss(x, k), k, 1e-5)
    fd_x = central_differences(lambda: loss(x, k), x, 1e-5)
    assert np.allclose(conv["grad_kernel"](x, g), fd_k, rtol=1e-7, atol=1e-8)
    assert np.allclose(conv["grad_input"](g, k), fd_x, rtol=1e-7, atol=1e-8)


@settings(max_examples=25, deadline=None)
@given(shapes2d, st.integers(1, 3), st.integers(0, 2**31 - 1))
def test_stride_kernels_match_numpy(conv_stride, shape, st_, seed):
    forward, grad_input = conv_stride
    h, w, hk, wk = shape
    rng = np.random.default_rng(seed)
    x, k = rng.normal(size=(h, w)), rng.normal(size=(hk, wk))
    y_ = forward(x, k, st_)
    assert np.allclose(y_, corr_stride(x, k, st_), rtol=1e-12, atol=1e-12)
    g = rng.normal(size=y_.shape)
    assert np.allclose(grad_input(g, k, st_, h, w), grad_input_stride(g, k, st_, (h, w)), rtol=1e-12, atol=1e-12)


def _function(source: str, fname: str) -> str:
    return source.split(f"def {fname}(")[1]


def _innermost(body: str) -> list[str]:
    """The lines of the most deeply nested loop body."""
    lines = [ln for ln in body.splitlines() if ln.strip()]
    depth = max(len(ln) - len(ln.lstrip()) for ln in lines)
    return [ln.strip() for ln in lines if len(ln) - len(ln.lstrip()) == depth]


def test_grad_input_bounds_are_tightened(conv, conv_stride):
    for k in (conv["grad_input"], conv_stride[1]):
        body = _function(k.source, k.module.FUNCTION)
        assert not re.search(r"\bif\b", body), body
        assert all(not ln.startswith("if") for ln in _innermost(body))
    body = _function(conv["grad_input"].source, "conv2d_grad_input")
    assert "for i in range(max(0, p - k_h + 1), min(p + 1, H_in - k_h + 1)):" in body
    assert "acc += G[i, j]*K[p - i, q - j]" in body
    assert "//s" in _function(conv_stride[1].source, conv_stride[1].module.FUNCTION)


def test_grad_kernel_drops_guards_implied_by_output_ranges(conv):
    body = _function(conv["grad_kernel"].source, "conv2d_grad_kernel")
    assert " if " not in body and "acc += G[i, j]*X[i + p, j + q]" in body


def test_module_header_and_expression_comment(conv):
    src = conv["forward"].source
    assert src.startswith("# generated by symnn ") and "from: conv2d.forward" in src.splitlines()[0]
    assert "Sum(K[m, n]*X[i + m, j + n], (m, 0, k_h - 1), (n, 0, k_w - 1))" in src
    assert conv["forward"].expr == sp.Sum(X[i + m, j + n] * K[m, n], (m, 0, kh - 1), (n, 0, kw - 1))
    assert conv["forward"].dispatcher.__class__.__name__ == "CPUDispatcher"


def test_conv_dtype_out_and_shape_errors(conv):
    x = np.arange(16, dtype=np.float32).reshape(4, 4)
    k = np.ones((2, 2), np.float32)
    y32 = conv["forward"](x, k)
    assert y32.dtype == np.float32 and y32[0, 0] == 10
    assert conv["forward"](x.astype(int), k).dtype == np.float64  # integer arrays work
    buf = np.full((3, 3), 7.0)
    assert conv["forward"](x, k, out=buf) is buf and buf[0, 0] == 10
    with pytest.raises(InputError, match="shape"):
        conv["forward"](x, k, out=np.zeros((2, 2)))
    with pytest.raises(InputError, match="2-D"):
        conv["forward"](x.ravel(), k)
    with pytest.raises(InputError, match="too small"):
        conv["forward"](k, x)


def test_too_small_inputs_are_refused_before_reading():
    a, w_, b_, zz = (sp.IndexedBase(c) for c in ("A", "Wt", "b", "Z"))
    N, n_in, n_out = sp.symbols("N n_in n_out", integer=True, positive=True)
    k_ = sp.Symbol("k", integer=True)
    spec = KernelSpec(
        "test.dense",
        [a, w_, b_],
        [Output(zz, (i, j), sp.Sum(w_[j, k_] * a[i, k_], (k_, 0, n_in - 1)) + b_[j])],
        shapes={N: (a, 0), n_in: (a, 1), n_out: (w_, 0)},
        out_shapes={zz: (N, n_out)},
    )
    dense = build(spec)
    rng = np.random.default_rng(0)
    A_, Wt = rng.normal(size=(5, 3)), rng.normal(size=(2, 3))
    assert np.allclose(dense(A_, Wt, np.ones(2)), A_ @ Wt.T + 1)
    with pytest.raises(InputError, match="b is too small"):
        dense(A_, Wt, np.ones(1))
    with pytest.raises(InputError, match="Wt is too small"):
        dense(A_, Wt[:, :2], np.ones(2))


def test_integer_label_array_and_accumulate():
    P, lab, out = sp.IndexedBase("P"), sp.IndexedBase("labels"), sp.IndexedBase("picked")
    N, C = sp.symbols("N C", integer=True, positive=True)
    spec = KernelSpec(
        "test.pick",
        [P, lab],
        [Output(out, (i,), P[i, lab[i]], accumulate=True)],
        shapes={N: (P, 0), C: (P, 1)},
        out_shapes={out: (N,)},
    )
    k = build(spec)
    probs = np.array([[0.1, 0.9], [0.7, 0.3], [0.5, 0.5]])
    labels = np.array([1, 0, 1])
    got = k(probs, labels)
    assert got.tolist() == [0.9, 0.7, 0.5]
    k(probs, labels, out=got)  # accumulates into the buffer
    assert got.tolist() == [1.8, 1.4, 1.0]


def test_specialised_filter_folds_zero_coefficients():
    sharpen = sp.ImmutableMatrix([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    out = sp.IndexedBase("out")
    spec = KernelSpec(
        "test.sharpen",
        [X],
        [Output(out, (i, j), sp.Sum(X[i + m, j + n] * sharpen[m, n], (m, 0, 2), (n, 0, 2)))],
        shapes={H: (X, 0), W: (X, 1)},
        out_shapes={out: (H - 2, W - 2)},
    )
    k = build(spec)
    body = _function(k.source, "test_sharpen")
    assert body.count("X[") == 5 and "for m" not in body and "5*X[i + 1, j + 1]" in body
    x = np.random.default_rng(1).normal(size=(6, 5))
    assert np.allclose(k(x), corr_valid(x, np.array(sharpen, dtype=float)), rtol=1e-12, atol=1e-12)


def test_parallel_kernel():
    fwd = sp.Sum(X[i + m, j + n] * K[m, n], (m, 0, kh - 1), (n, 0, kw - 1))
    spec = KernelSpec(
        "test.conv_parallel",
        [X, K],
        [Output(Y, (i, j), fwd)],
        shapes={H: (X, 0), W: (X, 1), kh: (K, 0), kw: (K, 1)},
        out_shapes={Y: (H - kh + 1, W - kw + 1)},
        parallel=True,
    )
    k = build(spec)
    assert "prange(" in k.source and "parallel=True" in k.source
    x, kk = np.random.default_rng(2).normal(size=(9, 8)), np.ones((3, 3))
    assert np.allclose(k(x, kk), corr_valid(x, kk))


def test_unknown_kernel_name():
    with pytest.raises(UnknownNameError, match="unknown kernel 'no.such'.*conv2d.forward"):
        kernel("no.such")


def test_bad_specs_are_refused():
    with pytest.raises(InputError, match="not input arrays"):
        KernelSpec("bad", [X], [Output(Y, (i,), K[i])], shapes={H: (X, 0)}, out_shapes={Y: (H,)})
    with pytest.raises(InputError, match="out_shapes"):
        KernelSpec("bad", [X], [Output(Y, (i,), X[i])], shapes={H: (X, 0)})
    with pytest.raises(InputError, match="not among the arguments"):
        elementwise("bad", [z], [z + y])


def test_scalar_output_nested_sums_and_fastmath():
    loss = sp.IndexedBase("L")
    fwd = sp.Sum(X[i + m, j + n] * K[m, n], (m, 0, kh - 1), (n, 0, kw - 1))
    spec = KernelSpec(
        "test.conv_loss",
        [X, K, G],
        [Output(loss, (), sp.Sum(G[i, j] * fwd, (i, 0, H - kh), (j, 0, W - kw)))],
        shapes={H: (X, 0), W: (X, 1), kh: (K, 0), kw: (K, 1)},
        out_shapes={loss: ()},
        fastmath=True,
    )
    k = build(spec)
    assert "fastmath" in k.source and "L[()] = acc" in k.source
    rng = np.random.default_rng(4)
    x, kk = rng.normal(size=(7, 6)), rng.normal(size=(3, 2))
    g = rng.normal(size=(5, 5))
    got = k(x, kk, g)
    assert got.shape == () and np.isclose(got, np.sum(g * corr_valid(x, kk)), rtol=1e-12)


def test_simplified_piecewise_form_gives_the_same_loops(conv):
    from symnn.ops import conv2d as conv_op

    simplified = sp.simplify(conv_op.grad_wrt_input())  # Sum(Piecewise((G*K, guards), (0, True)))
    assert simplified.has(sp.Piecewise)
    spec = conv["grad_input"].spec
    k = build(
        KernelSpec(
            "test.grad_input_simplified",
            spec.inputs,
            [Output(dX, (p, q), simplified)],
            shapes=spec.shapes,
            out_shapes=spec.out_shapes,
        )
    )
    body = _function(k.source, "test_grad_input_simplified")
    # the guarded window sum is written in scatter form: no `if`, no per-pixel bound arithmetic
    assert " if " not in body and "for p_off in range(k_h):" in body  # dX's shape keeps the windows in
    assert "('dX', 0" not in k.source  # provably inside dX (H = H_out + k_h - 1): no check
    assert "dX[i + p_off, j + q_off] += G[i, j]*K[p_off, q_off]" in body
    rng = np.random.default_rng(5)
    g, kk = rng.normal(size=(4, 3)), rng.normal(size=(2, 3))
    assert np.allclose(k(g, kk), conv_full(g, kk), rtol=1e-12, atol=1e-12)
    assert np.array_equal(k(g, kk), _gather_full(g, kk))  # same terms, same order, bit for bit


def _gather_full(g: np.ndarray, kk: np.ndarray) -> np.ndarray:
    """The gather order of the derived sum: for each pixel, i then j ascending (test oracle)."""
    kh, kw = kk.shape
    out = np.zeros((g.shape[0] + kh - 1, g.shape[1] + kw - 1))
    for p_ in range(out.shape[0]):
        for q_ in range(out.shape[1]):
            acc = 0.0
            for i_ in range(g.shape[0]):
                for j_ in range(g.shape[1]):
                    if 0 <= p_ - i_ < kh and 0 <= q_ - j_ < kw:
                        acc += g[i_, j_] * kk[p_ - i_, q_ - j_]
            out[p_, q_] = acc
    return out


def test_nonlinear_guard_stays_an_if():
    v, out = sp.IndexedBase("v"), sp.IndexedBase("out")
    N = sp.Symbol("N", integer=True, positive=True)
    spec = KernelSpec(
        "test.squares",
        [v],
        [Output(out, (), sp.Sum(sp.Piecewise((v[m], m * m < N), (0, True)), (m, 0, N - 1)))],
        shapes={N: (v, 0)},
        out_shapes={out: ()},
    )
    k = build(spec)
    assert "if N > m**2:" in k.source
    assert k(np.arange(10.0)) == 0 + 1 + 2 + 3


def test_integer_division_by_a_product_is_parenthesised():
    import sympy as sp

    from symnn.codegen.printer import NumbaPrinter

    k, H, W = sp.symbols("k H W", integer=True, positive=True)
    assert NumbaPrinter().doprint(sp.floor(k / (H * W))) == "k//(H*W)"
    assert eval(NumbaPrinter().doprint(sp.floor(k / (H * W))), {"k": 23, "H": 2, "W": 3}) == 3


def test_dense_products_go_to_blas_above_a_size_and_stay_loops_below():
    """Σ_k A[s,k] W[j,k] over whole axes is a matrix product: one np.dot inside the generated
    kernel when N·n_in·n_out >= BLAS_MIN, the written loops below (the digits MLP's batches)."""
    from symnn.codegen.passes.blas import BLAS_MIN
    from symnn.nn import Dense as DenseLayer
    from symnn.nn import Sequential, Sigmoid
    from symnn.nn.fused import fusable

    fwd, gw, gi = (kernel(f"dense.{n}") for n in ("forward", "grad_weight", "grad_input"))
    assert "np.dot(A, W.T, Z)" in fwd.source and "np.dot(G.T, A, dW)" in gw.source
    assert "np.dot(G, W, dA)" in gi.source and "import numpy as np" in fwd.source
    rng = np.random.default_rng(8)
    for n, n_in, n_out in [(2, 3, 4), (32, 784, 100)]:
        A, W, b, G = (
            rng.normal(size=(n, n_in)),
            rng.normal(size=(n_out, n_in)),
            rng.normal(size=n_out),
            rng.normal(size=(n, n_out)),
        )
        assert (n * n_in * n_out >= BLAS_MIN) == (n_in == 784)
        np.testing.assert_allclose(fwd(A, W, b), A @ W.T + b, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gw(G, A), G.T @ A, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gi(G, W), G @ W, rtol=1e-12, atol=1e-12)
    small = rng.normal(size=(2, 3)), rng.normal(size=(4, 3)), rng.normal(size=4)
    loops = np.array(
        [[sum(small[0][s, k] * small[1][j, k] for k in range(3)) + small[2][j] for j in range(4)] for s in range(2)]
    )
    assert np.array_equal(fwd(*small), loops)  # below: the written order exactly
    assert fwd(small[0].astype(np.float32), *small[1:]).dtype == np.float64  # mixed floats: one type
    big = Sequential([DenseLayer(784, 100), Sigmoid(), DenseLayer(100, 10), Sigmoid()])
    assert fusable(big) is None  # 79,400 weights: batched BLAS beats per-sample loops


def test_flatten_index_is_delinearised_into_loops_over_its_digits():
    """Y[t, k] = X[t, ⌊⌊k/W⌋/H⌋, ⌊k/W⌋ mod H, k mod W] runs as loops over (c, i, j) writing
    Y[t, (c·H + i)·W + j]: no division per element, the same values."""
    k = kernel("flatten.forward")
    body = _function(k.source, "flatten_forward")
    assert "//" not in body and "%" not in body and "Y[t, W_in*(H_in*k2 + k1) + k0] = X[t, k2, k1, k0]" in body
    x = np.random.default_rng(3).normal(size=(2, 3, 4, 5))
    assert np.array_equal(k(x), x.reshape(2, -1))
