"""Nielsen's network.py in NumPy (the reference for the digits MLP), and a vectorised variant.

`train_epoch` follows network.py line by line: shuffle, cut into mini-batches, and for each
mini-batch run `backprop` on every sample on its own, sum the nabla_w / nabla_b it returns, then
step w -> w - (eta / m) * nabla_w. Sigmoid activations, quadratic cost C_x = ½‖a − y‖².
Vectors are 1-D here (network.py uses (n, 1) columns); weights are (n_out, n_in).
`train_epoch_vectorised` does the same mini-batch step with the whole batch as one matrix.
"""

from __future__ import annotations

import numpy as np

from .common import MLP, epoch_order, init_mlp

NAME = "NumPy per-sample (Nielsen network.py)"
NAME_VECTORISED = "NumPy vectorised mini-batch"


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    return sigmoid(z) * (1 - sigmoid(z))


def cost_derivative(output_activations: np.ndarray, y: np.ndarray) -> np.ndarray:
    """∂C_x/∂a for the quadratic cost."""
    return output_activations - y


def init(sizes: list[int], seed: int = 0) -> MLP:
    return init_mlp(sizes, seed)


def feedforward(net: MLP, a: np.ndarray) -> np.ndarray:
    """a: one sample (n_in,) or a batch (N, n_in)."""
    for w, b in zip(net.weights, net.biases):
        a = sigmoid(a @ w.T + b)
    return a


def predict(net: MLP, X: np.ndarray) -> np.ndarray:
    return np.argmax(feedforward(net, X.reshape(len(X), -1)), axis=1)


def backprop(net: MLP, x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(nabla_b, nabla_w): the gradient of C_x for one sample, by BP1-BP4."""
    nabla_b = [np.zeros(b.shape) for b in net.biases]
    nabla_w = [np.zeros(w.shape) for w in net.weights]
    activation = x
    activations = [x]
    zs = []
    for b, w in zip(net.biases, net.weights):
        z = np.dot(w, activation) + b
        zs.append(z)
        activation = sigmoid(z)
        activations.append(activation)
    delta = cost_derivative(activations[-1], y) * sigmoid_prime(zs[-1])  # BP1
    nabla_b[-1] = delta  # BP3
    nabla_w[-1] = np.outer(delta, activations[-2])  # BP4
    for l in range(2, len(net.weights) + 1):
        sp = sigmoid_prime(zs[-l])
        delta = np.dot(net.weights[-l + 1].T, delta) * sp  # BP2
        nabla_b[-l] = delta
        nabla_w[-l] = np.outer(delta, activations[-l - 1])
    return nabla_b, nabla_w


def update_mini_batch(net: MLP, X: np.ndarray, Y: np.ndarray, eta: float) -> None:
    nabla_b = [np.zeros(b.shape) for b in net.biases]
    nabla_w = [np.zeros(w.shape) for w in net.weights]
    for x, y in zip(X, Y):
        delta_nabla_b, delta_nabla_w = backprop(net, x, y)
        nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
        nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
    m = len(X)
    net.weights = [w - (eta / m) * nw for w, nw in zip(net.weights, nabla_w)]
    net.biases = [b - (eta / m) * nb for b, nb in zip(net.biases, nabla_b)]


def train_epoch(
    net: MLP, X: np.ndarray, Y_onehot: np.ndarray, lr: float, batch_size: int, rng: np.random.Generator
) -> MLP:
    """One epoch of network.py's SGD (η = lr); the last mini-batch may be smaller."""
    X = X.reshape(len(X), -1)
    order = epoch_order(rng, len(X))
    for k in range(0, len(X), batch_size):
        idx = order[k : k + batch_size]
        update_mini_batch(net, X[idx], Y_onehot[idx], lr)
    return net


def train_epoch_vectorised(
    net: MLP, X: np.ndarray, Y_onehot: np.ndarray, lr: float, batch_size: int, rng: np.random.Generator
) -> MLP:
    """The same epoch with each mini-batch as an (m, n) matrix: rows are samples."""
    X = X.reshape(len(X), -1)
    order = epoch_order(rng, len(X))
    L = len(net.weights)
    for k in range(0, len(X), batch_size):
        idx = order[k : k + batch_size]
        activations = [X[idx]]
        for w, b in zip(net.weights, net.biases):
            activations.append(sigmoid(activations[-1] @ w.T + b))
        a = activations[-1]
        delta = (a - Y_onehot[idx]) * a * (1 - a)  # σ'(z) = σ(z)(1 − σ(z)) = a(1 − a)
        scale = lr / len(idx)
        for l in range(L - 1, -1, -1):
            nabla_w = delta.T @ activations[l]
            nabla_b = delta.sum(axis=0)
            if l > 0:
                a_prev = activations[l]
                delta_prev = (delta @ net.weights[l]) * a_prev * (1 - a_prev)
            net.weights[l] -= scale * nabla_w
            net.biases[l] -= scale * nabla_b
            if l > 0:
                delta = delta_prev
    return net
