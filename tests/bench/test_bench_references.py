"""The hand-written benchmark references agree with each other, with SciPy and with finite
differences, so the ratios bench/ reports compare like with like."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout: bench/ is a package there

from conftest import central_differences  # noqa: E402

from bench.references import cnn_numpy, cnn_references, common, conv_refs, mlp_numba, mlp_numpy, mlp_references  # noqa: E402


def _max_diff(a: common.MLP, b: common.MLP) -> float:
    return max(float(np.abs(x - y).max()) for x, y in zip(a.weights + a.biases, b.weights + b.biases))


@pytest.fixture(scope="module")
def digits():
    return common.digits()


@pytest.fixture(scope="module")
def numpy_epoch(digits):
    """Nielsen's per-sample NumPy epoch from init seed 0, epoch order from default_rng(0)."""
    net = mlp_numpy.init([64, 30, 10], 0)
    return mlp_numpy.train_epoch(net, digits.X_train, digits.Y_train, 3.0, 10, np.random.default_rng(0))


def test_same_init_for_every_reference():
    a, b = common.init_mlp([64, 30, 10], 0), common.init_mlp([64, 30, 10], 0)
    assert _max_diff(a, b) == 0.0
    assert a.weights[0].shape == (30, 64) and a.biases[1].shape == (10,)
    assert 0.05 < a.weights[0].std() < 0.2  # N(0, 1/sqrt(64)): close to 0, not 0
    assert _max_diff(a, common.init_mlp([64, 30, 10], 1)) > 0.1
    cnn = common.init_cnn(seed=0)
    assert cnn.conv_w.shape == (8, 1, 3, 3) and cnn.dense_w.shape == (10, 72)


def test_numba_epoch_equals_numpy(digits, numpy_epoch):
    net = mlp_numba.init([64, 30, 10], 0)
    mlp_numba.train_epoch(net, digits.X_train, digits.Y_train, 3.0, 10, np.random.default_rng(0))
    assert _max_diff(net, numpy_epoch) < 1e-10
    np.testing.assert_array_equal(mlp_numba.predict(net, digits.X_test), mlp_numpy.predict(numpy_epoch, digits.X_test))


def test_numba_fastmath_close(digits, numpy_epoch):
    net = mlp_numba.init([64, 30, 10], 0)
    mlp_numba.train_epoch(net, digits.X_train, digits.Y_train, 3.0, 10, np.random.default_rng(0), fastmath=True)
    assert _max_diff(net, numpy_epoch) < 1e-8


def test_vectorised_epoch_equals_per_sample(digits, numpy_epoch):
    net = mlp_numpy.init([64, 30, 10], 0)
    mlp_numpy.train_epoch_vectorised(net, digits.X_train, digits.Y_train, 3.0, 10, np.random.default_rng(0))
    assert _max_diff(net, numpy_epoch) < 1e-10


def test_vectorised_deeper_net_equals_per_sample():
    rng = np.random.default_rng(3)
    X, Y = rng.random((23, 5)), np.eye(3)[rng.integers(0, 3, 23)]
    a, b = mlp_numpy.init([5, 4, 6, 3], 1), mlp_numpy.init([5, 4, 6, 3], 1)
    mlp_numpy.train_epoch(a, X, Y, 0.5, 4, np.random.default_rng(0))
    mlp_numpy.train_epoch_vectorised(b, X, Y, 0.5, 4, np.random.default_rng(0))
    assert _max_diff(a, b) < 1e-12


def test_backprop_matches_finite_differences():
    rng = np.random.default_rng(1)
    net = mlp_numpy.init([4, 3, 2], 2)
    net.biases = [rng.normal(size=b.shape) for b in net.biases]
    x, y = rng.random(4), np.array([0.0, 1.0])

    def cost(n: common.MLP) -> float:
        return 0.5 * float(((mlp_numpy.feedforward(n, x) - y) ** 2).sum())

    nabla_b, nabla_w = mlp_numpy.backprop(net, x, y)
    h = 1e-6
    for grads, params in ((nabla_w, "weights"), (nabla_b, "biases")):
        for l, g in enumerate(grads):
            for idx in np.ndindex(g.shape):
                plus, minus = net.copy(), net.copy()
                getattr(plus, params)[l][idx] += h
                getattr(minus, params)[l][idx] -= h
                fd = (cost(plus) - cost(minus)) / (2 * h)
                assert abs(fd - g[idx]) <= 1e-8 + 1e-6 * abs(fd)


def test_mlp_learns_xor_and_digits_accuracy_is_plausible(digits):
    net = mlp_numba.init([64, 30, 10], 0)
    rng = np.random.default_rng(0)
    for _ in range(3):
        mlp_numba.train_epoch(net, digits.X_train, digits.Y_train, 3.0, 10, rng)
    assert common.accuracy(mlp_numba.predict(net, digits.X_test), digits.y_test) > 0.85


# ---- CNN ------------------------------------------------------------------------------------


def test_im2col_conv_matches_scipy():
    rng = np.random.default_rng(0)
    X = rng.random((3, 2, 7, 6))
    K = rng.normal(size=(4, 2, 3, 3))
    cols = cnn_numpy.im2col(X, 3, 3)
    out = (cols @ K.reshape(4, -1).T).transpose(0, 2, 1).reshape(3, 4, 5, 4)
    for n in range(3):
        for f in range(4):
            ref = sum(ndimage.correlate(X[n, c], K[f, c], mode="constant")[1:-1, 1:-1] for c in range(2))
            np.testing.assert_allclose(out[n, f], ref, atol=1e-12)


def test_lecture_feature_map_through_im2col():
    image = np.array(
        [
            [0, 0, 0, 0, 0, 0, 0],
            [0, 1, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 1, 0, 0, 0],
            [0, 1, 0, 0, 0, 1, 0],
            [0, 0, 1, 1, 1, 0, 0],
            [0, 0, 0, 0, 0, 0, 0],
        ],
        dtype=float,
    )
    detector = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 1]], dtype=float)
    fmap = (cnn_numpy.im2col(image[None, None], 3, 3) @ detector.ravel()).reshape(5, 5)
    np.testing.assert_array_equal(
        fmap, [[0, 1, 0, 0, 0], [0, 1, 1, 1, 0], [1, 0, 0, 2, 1], [1, 4, 2, 1, 0], [0, 0, 1, 2, 1]]
    )


def test_cnn_backward_matches_finite_differences():
    rng = np.random.default_rng(4)
    net = cnn_numpy.init(seed=5, in_shape=(2, 6, 7), n_filters=3, kernel=3, pool=2, n_out=4)
    net.conv_b = rng.normal(0, 0.1, net.conv_b.shape)
    net.dense_b = rng.normal(0, 0.1, net.dense_b.shape)
    X = rng.normal(size=(3, 2, 6, 7))
    y = np.array([0, 3, 1])
    _, cache = cnn_numpy.forward(net, X)
    grads = cnn_numpy.backward(net, cache, y, need_dx=True)
    h = 1e-6

    def check(array: np.ndarray, grad: np.ndarray) -> None:
        assert grad.shape == array.shape
        fd = central_differences(lambda: cnn_numpy.loss(net, X, y), array, h)
        for idx in np.ndindex(array.shape):
            assert abs(fd[idx] - grad[idx]) <= 1e-8 + 1e-6 * abs(fd[idx]), (idx, fd[idx], grad[idx])

    for name in ("conv_w", "conv_b", "dense_w", "dense_b"):
        check(getattr(net, name), grads[name])
    check(X, grads["X"])


def test_maxpool_routes_to_first_maximum():
    # 1x1 conv with weight 1 passes X through; the 2x2 window [[2, 2], [1, 2]] ties three times
    net = common.CNN(np.ones((1, 1, 1, 1)), np.zeros(1), np.array([[1.0], [-1.0]]), np.zeros(2), 2)
    X = np.array([[[[2.0, 2.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 0.0]]]])
    _, cache = cnn_numpy.forward(net, X)
    assert cache.switch.ravel().tolist() == [0]
    dX = cnn_numpy.backward(net, cache, np.array([0]), need_dx=True)["X"][0, 0]
    assert np.flatnonzero(dX).tolist() == [0]  # all of it to the first maximum, as PyTorch


def test_cnn_numpy_learns():
    d = common.digits(images=True)
    net = cnn_numpy.init(0)
    rng = np.random.default_rng(0)
    for _ in range(2):
        cnn_numpy.train_epoch(net, d.X_train, d.y_train, 0.5, 32, rng)
    assert common.accuracy(cnn_numpy.predict(net, d.X_test), d.y_test) > 0.8


# ---- 2-D cross-correlation -----------------------------------------------------------------

SHAPES = [(1, 1), (2, 2), (3, 3), (2, 9), (9, 2), (5, 7), (16, 13)]


@pytest.mark.parametrize("shape", SHAPES)
def test_generic_numba_matches_scipy_nearest(shape):
    rng = np.random.default_rng(sum(shape))
    image = rng.random(shape)
    for kshape in ((3, 3), (5, 5), (1, 3), (3, 1), (7, 5)):
        kernel = rng.normal(size=kshape)
        np.testing.assert_allclose(
            conv_refs.correlate_numba(image, kernel), ndimage.correlate(image, kernel, mode="nearest"), atol=1e-12
        )


@pytest.fixture(scope="module")
def folded():
    emboss = np.array([[-2.0, -1.0, 0.0], [-1.0, 1.0, 1.0], [0.0, 1.0, 2.0]])
    return emboss, conv_refs.folded_3x3(emboss), conv_refs.folded_3x3(emboss, parallel=True)


@pytest.mark.parametrize("shape", SHAPES + [(64, 80)])
def test_folded_3x3_matches_scipy(folded, shape):
    kernel, serial, parallel = folded
    image = np.random.default_rng(7).random(shape)
    ref = conv_refs.correlate_scipy(image, kernel, mode="nearest")
    np.testing.assert_allclose(serial(image), ref, atol=1e-12)
    np.testing.assert_allclose(parallel(image), ref, atol=1e-12)


def test_hand_kernels_reject_what_they_do_not_do():
    with pytest.raises(ValueError, match="odd-sized"):
        conv_refs.correlate_numba(np.ones((4, 4)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="3x3"):
        conv_refs.folded_3x3(np.ones((5, 5)))


def test_memcopy_bandwidth_is_a_positive_rate():
    gbs = conv_refs.memcopy_bandwidth(nbytes=4 * 2**20, repeats=3)
    assert 0.1 < gbs < 10_000


# ---- registry and timing ---------------------------------------------------------------------


def test_registry_and_timer(digits):
    names = [r.name for r in mlp_references(torch=False)]
    assert names == [mlp_numpy.NAME, mlp_numpy.NAME_VECTORISED, mlp_numba.NAME, mlp_numba.NAME_FASTMATH]
    assert [r.name for r in cnn_references(torch=False)] == [cnn_numpy.NAME]
    ref = mlp_references(torch=False)[1]
    t = common.time_training(
        ref, digits.X_train, digits.Y_train, digits.X_test, digits.y_test, epochs=2, lr=3.0, batch_size=10
    )
    assert len(t.epoch_seconds) == 2 and t.median > 0 and 0.5 < t.accuracy <= 1.0


# ---- PyTorch (optional) ------------------------------------------------------------------------


@pytest.fixture
def torch_one_thread():
    """One intra-op thread: on a shared 2-core machine PyTorch's default pool stalls at barriers."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(before)


def test_torch_mlp_float64_equals_numpy(digits, torch_one_thread):
    from bench.references import mlp_torch

    X, Y = digits.X_train[:400], digits.Y_train[:400]
    net = mlp_numpy.train_epoch(mlp_numpy.init([64, 30, 10], 0), X, Y, 3.0, 10, np.random.default_rng(0))
    state = mlp_torch.init([64, 30, 10], 0, dtype="float64")
    mlp_torch.train_epoch(state, X, Y, 3.0, 10, np.random.default_rng(0))
    assert _max_diff(mlp_torch.to_mlp(state), net) < 1e-10
    np.testing.assert_array_equal(mlp_torch.predict(state, digits.X_test), mlp_numpy.predict(net, digits.X_test))


def test_torch_cnn_float64_equals_numpy(torch_one_thread):
    from bench.references import cnn_torch

    d = common.digits(images=True)
    X, y = d.X_train[:320], d.y_train[:320]
    net = cnn_numpy.train_epoch(cnn_numpy.init(0), X, y, 0.5, 32, np.random.default_rng(0))
    state = cnn_torch.train_epoch(cnn_torch.init(0, dtype="float64"), X, y, 0.5, 32, np.random.default_rng(0))
    other = cnn_torch.to_cnn(state)
    for name in ("conv_w", "conv_b", "dense_w", "dense_b"):
        np.testing.assert_allclose(getattr(other, name), getattr(net, name), atol=1e-10)


def test_torch_correlate_matches_scipy(torch_one_thread):
    rng = np.random.default_rng(2)
    image, kernel = rng.random((9, 11)), rng.normal(size=(5, 3))
    np.testing.assert_allclose(
        conv_refs.correlate_torch(image, kernel), ndimage.correlate(image, kernel, mode="nearest"), atol=1e-12
    )


def test_mnist_numpy_reference_gradients_equal_symnns():
    """bench/mnist_cnn.py's im2col NumPy net (two conv layers, odd maps pooled) and symnn's
    Sequential, from the same numbers: the same loss gradients (so the bench compares like with like)."""
    from bench.references import mnist_numpy

    sys.path.append(str(Path(__file__).resolve().parents[2] / "bench"))  # its scripts import `references`
    from mnist_cnn import _symnn_net  # the net the bench trains, its weights set from mnist_numpy.init(0)

    rng = np.random.default_rng(5)
    X, y = rng.uniform(size=(3, 1, 28, 28)), np.array([1, 7, 3])
    params = mnist_numpy.init(0)
    net = _symnn_net("float64")
    ours, theirs = net.gradients(X, y), mnist_numpy.gradients(params, X, y)
    assert set(ours) == set(theirs)
    for key in ours:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-9, atol=1e-12, err_msg=key)
    np.testing.assert_array_equal(mnist_numpy.predict(params, X), net.predict(X))
