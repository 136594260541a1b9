# %% [markdown]
# Step 4, the **full connection**, puts an ordinary neural network — lessons 1 to 6 — behind
# the flattened vector. Each number of the vector is an input node, and every input node is
# connected to every neuron of the next layer: the layer is *fully connected*, or *dense*. A
# CNN may have several such hidden layers; the last layer has one output neuron per class (the
# lecture's example: "dog" and "cat"), and the network's answer is the output neuron with the
# highest value. Training this part is back-propagation as in lesson 5, with one addition: the
# errors do not stop at the input vector. They flow on, back through flattening, pooling and
# ReLU, to the feature detectors, which are trained along with the dense weights.

# %%
import numpy as np
import sympy as sp
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

import symnn
from symnn.course import Lesson
from symnn.nn import Conv2D, Dense, Flatten, MaxPool2D, ReLU, SoftmaxCrossEntropy
from symnn.vision import feature_maps

lesson = Lesson(12, "Step 4 - Full connection", reading=["nielsen", "lecun"])


def M(a, digits=None):
    a = np.asarray(a)
    if digits is None:
        return sp.ImmutableMatrix(a.astype(int))
    return sp.ImmutableMatrix(a.shape[0], a.shape[1], lambda r, c: sp.Float(a[r, c], digits))


# %% [markdown]
# ## The dense layer, derived
#
# For a batch of inputs $A$ (one row per sample), the layer computes $Z = A W^T + b$. symnn
# differentiates it in index notation and gets the three gradients of Nielsen's BP3, BP4 and
# BP2 — those of the biases, of the weights, and the error handed to the layer below:

# %%
lesson.derivation(symnn.derive("dense"))

# %% [markdown]
# ## The running example, fully connected
#
# The 36-number vector of lesson 11 (the lecture's image, four detectors, ReLU, 2 x 2 pooling,
# flattening) goes into a dense layer of two output neurons — the lecture's "dog" and "cat",
# here simply class 1 and class 2. The layers are symnn's own, so every number below comes from
# their generated kernels; the convolutional layer holds the four detectors of lesson 8, and
# the dense weights are drawn at random (normal, standard deviation $1/\sqrt{36}$, seed 0): the
# network is untrained.

# %%
SIZE, TURNS, SEED, CLASSES = 2, (0, 1, 2, 3), 0, 2
image = feature_maps.LECTURE_IMAGE[np.newaxis, np.newaxis]  # a batch of one 1-channel image
conv, relu, pool, flatten = Conv2D(1, len(TURNS), 3), ReLU(), MaxPool2D(SIZE), Flatten()
conv.weight[:, 0] = np.stack([np.rot90(feature_maps.LECTURE_DETECTOR, t) for t in TURNS])
maps_shape = conv.output_shape(*image.shape[2:])
extra = (-np.array(maps_shape)) % SIZE  # frame with zeros, as in lesson 10
dense = Dense(len(TURNS) * int(np.prod((np.array(maps_shape) + extra) // SIZE)), CLASSES)
dense.init(np.random.default_rng(SEED))
loss = SoftmaxCrossEntropy()
target = np.array([[1.0, 0.0]])  # the image is of class 1


def forward(x):
    a = relu.forward(conv.forward(x))
    framed = np.pad(a, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1])))
    return dense.forward(flatten.forward(pool.forward(framed)))


z = forward(image)
probs = loss.probabilities(z)
cost = loss.value(z, target)
lesson.math(
    rf"z = W a + b = \begin{{pmatrix}} {z[0, 0]:.4f} \\ {z[0, 1]:.4f} \end{{pmatrix}},\qquad "
    rf"\hat{{y}} = \mathrm{{softmax}}(z) = \begin{{pmatrix}} {probs[0, 0]:.4f} \\ {probs[0, 1]:.4f} "
    rf"\end{{pmatrix}},\qquad L = -\ln \hat{{y}}_1 = {cost:.4f}",
    text=f"z = W a + b = ({z[0, 0]:.4f}, {z[0, 1]:.4f}), ŷ = softmax(z) = ({probs[0, 0]:.4f}, "
    f"{probs[0, 1]:.4f}), L = -ln ŷ_1 = {cost:.4f}",
)
guess = int(np.argmax(z[0])) + 1
lesson.markdown(
    f"The dense layer has {dense.weight.size} weights ({dense.weight.shape[0]} x "
    f"{dense.weight.shape[1]}) and {dense.bias.size} biases. Its two outputs $z$ are turned into "
    "probabilities by the softmax function and scored by the cross-entropy $L$, both the subject "
    f"of lesson 14. The untrained network says class {guess}, with probability "
    f"{probs[0, guess - 1]:.4f}; the cost is {cost:.4f}."
)

# %% [markdown]
# ## The error flows back to the detectors
#
# Back-propagation, layer by layer, with each layer's generated backward kernel. The error at
# the output is $\hat{y} - y$ (lesson 14 derives it); the dense layer turns it into the
# gradients of its weights and into an error on each of its 36 inputs; flattening un-flattens
# that error into four 3 x 3 maps; pooling sends each cell's error to its window's maximum;
# ReLU lets it through where the feature map was positive; and the convolutional layer turns
# it into the gradient of every detector.

# %%
delta_z = loss.gradient(z, target)
delta_v = dense.backward(delta_z)
delta_p = flatten.backward(delta_v)
delta_framed = pool.backward(delta_p)
delta_a = np.ascontiguousarray(delta_framed[:, :, : maps_shape[0], : maps_shape[1]])
delta_y = relu.backward(delta_a)
conv.backward(delta_y)
grads = {
    "dense weight": dense.grads["weight"],
    "dense bias": dense.grads["bias"],
    "detectors": conv.grads["weight"],
    "detector biases": conv.grads["bias"],
}
outer = np.outer(
    delta_z[0],
    flatten.forward(
        pool.forward(np.pad(relu.forward(conv.forward(image)), ((0, 0), (0, 0), (0, extra[0]), (0, extra[1]))))
    ),
)
assert np.allclose(grads["dense weight"], outer)  # BP4: ∂L/∂W = δ aᵀ for one sample
assert np.allclose(delta_z, probs - target)

# finite differences of the whole chain, for every parameter
EPS = 1e-6
PARAMS = (("dense weight", dense), ("dense bias", dense), ("detectors", conv), ("detector biases", conv))


def param_of(name):
    layer = dict(PARAMS)[name]
    return layer.weight if name in ("dense weight", "detectors") else layer.bias


def backprop_all():
    """Every gradient, by the layers' backward kernels (as above)."""
    zz = forward(image)
    d = pool.backward(flatten.backward(dense.backward(loss.gradient(zz, target))))
    conv.backward(relu.backward(np.ascontiguousarray(d[:, :, : maps_shape[0], : maps_shape[1]])))
    return {
        "dense weight": dense.grads["weight"].copy(),
        "dense bias": dense.grads["bias"].copy(),
        "detectors": conv.grads["weight"].copy(),
        "detector biases": conv.grads["bias"].copy(),
    }


def differences(g):
    """|back-propagation − central difference| for every parameter, by name."""
    out = {}
    for name, _ in PARAMS:
        param, gaps = param_of(name), []
        for idx in np.ndindex(param.shape):
            keep = param[idx]
            param[idx] = keep + EPS
            up = loss.value(forward(image), target)
            param[idx] = keep - EPS
            down = loss.value(forward(image), target)
            param[idx] = keep
            gaps.append(abs((up - down) / (2 * EPS) - g[name][idx]))
        out[name] = np.array(gaps)
    return out


at_lecture = differences(grads)
JITTER, JITTER_SEED = 0.01, 1
detectors_as_given = conv.weight.copy()
conv.weight += np.random.default_rng(JITTER_SEED).normal(0.0, JITTER, conv.weight.shape)
at_generic = differences(backprop_all())
conv.weight[...] = detectors_as_given
forward(image)  # leave the layers holding the real forward pass
worst = {name: float(gaps.max()) for name, gaps in at_generic.items()}
corners = {name: int(np.sum(gaps > 1e-5)) for name, gaps in at_lecture.items()}
lesson.table(
    ["what goes back", "shape", "largest magnitude", "checked against finite differences"],
    [
        ["error at the outputs, $\\hat{y} - y$", str(delta_z.shape[1:]), f"{np.abs(delta_z).max():.4f}", "(lesson 14)"],
        [
            "gradient of the dense weights",
            str(grads["dense weight"].shape),
            f"{np.abs(grads['dense weight']).max():.4f}",
            f"agree to {worst['dense weight']:.0e}",
        ],
        [
            "gradient of the dense biases",
            str(grads["dense bias"].shape),
            f"{np.abs(grads['dense bias']).max():.4f}",
            f"agree to {worst['dense bias']:.0e}",
        ],
        ["error on the flattened vector", str(delta_v.shape[1:]), f"{np.abs(delta_v).max():.4f}", ""],
        ["error on the pooled maps", str(delta_p.shape[1:]), f"{np.abs(delta_p).max():.4f}", ""],
        [
            "error on the feature maps (after pooling's routing)",
            str(delta_a.shape[1:]),
            f"{np.abs(delta_a).max():.4f}",
            "",
        ],
        ["error through ReLU", str(delta_y.shape[1:]), f"{np.abs(delta_y).max():.4f}", ""],
        [
            "gradient of the detectors",
            str(grads["detectors"].shape),
            f"{np.abs(grads['detectors']).max():.4f}",
            f"agree to {worst['detectors']:.0e}",
        ],
        [
            "gradient of the detectors' biases",
            str(grads["detector biases"].shape),
            f"{np.abs(grads['detector biases']).max():.4f}",
            f"agree to {worst['detector biases']:.0e}",
        ],
    ],
    caption="Back-propagation through the whole network, layer by layer, for the "
    "lecture's image: the shapes, the largest magnitude of each, and how closely "
    "every gradient agrees with central differences of the cost (step "
    "$10^{-6}$; detectors moved by a random $10^{-2}$, see below).",
)
n_params = sum(p.size for p in (dense.weight, dense.bias, conv.weight, conv.bias))
n_corner = sum(corners.values())
lesson.markdown(
    f"The check has one subtlety. At the lecture's exact numbers, {n_corner} of the {n_params} "
    f"gradients — {corners['detectors']} of the detectors' {conv.weight.size} and "
    f"{corners['detector biases']} of their {conv.bias.size} biases — differ from the finite "
    "differences. The image and the detectors hold only 0s and 1s, so many feature-map values "
    "are exactly 0, where ReLU has its corner, and many pooling windows hold ties: there the "
    "cost has a kink, the central difference averages the slopes on the two sides, and "
    "back-propagation takes the one-sided choices of lessons 9 and 10 (ReLU'(0) = 0, the first "
    f"maximum). Moving every detector entry by a small random amount (normal, standard "
    f"deviation {JITTER:g}, seed {JITTER_SEED}) leaves the corners, and there all {n_params} "
    "gradients agree, as the table shows. The gradient of the lecture's detector (the first of "
    "the four), at the lecture's numbers:"
)
lesson.math(
    rf"\frac{{\partial L}}{{\partial K_1}} = {sp.latex(M(grads['detectors'][0, 0], 4))}",
    text=f"∂L/∂K_1 = {np.round(grads['detectors'][0, 0], 4).tolist()}",
)
nonzero = int(np.count_nonzero(delta_y[0, 0]))
lesson.markdown(
    f"Of the 25 cells of the first feature map, only {nonzero} receive an error: pooling passed "
    "each window's error to one cell, and ReLU blocked those where the map was 0. The detector "
    "learns only from the places that won."
)

# %%
ETA = 0.01
for layer in (dense, conv):
    for name, param in layer.parameters().items():
        param -= ETA * layer.grads[name]
after = loss.value(forward(image), target)
lesson.markdown(
    f"One step of gradient descent ($\\eta = {ETA:g}$) on all {n_params} parameters — dense "
    f"weights and detectors together — lowers the cost from {cost:.4f} to {after:.4f}, and the "
    f"probability of the right class rises from {probs[0, 0]:.4f} to "
    f"{loss.probabilities(forward(image))[0, 0]:.4f}. Training a CNN is this step, repeated over "
    "many images: lesson 13."
)

fig = Figure(figsize=(10, 10.2), layout="constrained")  # two by two: room for the numbers at print size
panels = [
    ("error on $P_1$", delta_p[0, 0]),
    ("after pooling's routing", delta_a[0, 0]),
    ("after ReLU", delta_y[0, 0]),
    (r"$\partial L / \partial K_1$", grads["detectors"][0, 0]),
]
axes = fig.subplots(2, 2).ravel()
for ax, (title, a) in zip(axes, panels):
    lim = max(float(np.abs(a).max()), 1e-12)
    ax.imshow(a, cmap="RdBu", norm=TwoSlopeNorm(0, -lim, lim))
    for (r, c), v in np.ndenumerate(a):
        ax.text(c, r, "0" if v == 0 else f"{v:.3g}", ha="center", va="center", fontsize=7)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
back_fig = lesson.figure(
    fig,
    "backward",
    "The error on the first map on its way back: on the "
    "pooled map, routed to the windows' maxima, through ReLU, and the "
    "gradient of the lecture's detector it produces.",
    width=0.95,
)
lesson.markdown(f"{back_fig} follows the error of the first map on its way back.")

# %%
# Exercises for the chapter's end; `symnn check --exercise ID FILE` grades an answer.
SETUP = """given z_1 = w_11*x_1 + w_12*x_2 + w_13*x_3 + b_1
given z_2 = w_21*x_1 + w_22*x_2 + w_23*x_3 + b_2
given L = g_1*z_1 + g_2*z_2"""
lesson.exercise("Derive the gradient of the weight $w_{12}$ of a dense layer.", "dL/dw_12", SETUP)
lesson.exercise("Derive the gradient that flows back to the input $x_2$.", "dL/dx_2", SETUP)
