# %% [markdown]
# Step 3, **flattening**, is the simplest step of all. After convolution, ReLU and pooling, an
# image has become a stack of small pooled feature maps. The next step is an ordinary neural
# network like those of lessons 1 to 6, whose input layer is a single column of numbers. So
# the pooled maps are laid out one after the other, row by row, as one long vector — each
# number becomes one input node. Nothing is computed; values only move. The spatial
# information is not lost: the convolution and pooling steps have already turned it into
# *which* detector fired *where*, and each position of the vector keeps that meaning.

# %%
import numpy as np
import sympy as sp
from matplotlib.figure import Figure

import symnn
from symnn.course import Lesson
from symnn.nn import Flatten, MaxPool2D, ReLU
from symnn.vision import feature_maps

lesson = Lesson(11, "Step 3 - Flattening", reading=["lecun"])


def M(a):
    return sp.ImmutableMatrix(np.asarray(a).astype(int))


# %% [markdown]
# ## The running example, pooled
#
# The convolutional layer of lesson 8 — the lecture's detector and its three quarter turns —
# on the lecture's image, then ReLU (lesson 9) and 2 x 2 max pooling of the maps framed with
# zeros (lesson 10), all computed by symnn's generated kernels:

# %%
SIZE, TURNS = 2, (0, 1, 2, 3)
image, detector = feature_maps.LECTURE_IMAGE, feature_maps.LECTURE_DETECTOR
detectors = np.stack([np.rot90(detector, t) for t in TURNS])[:, np.newaxis]
maps = ReLU().forward(symnn.feature_map(image, detectors)[np.newaxis])  # (1, 4, 5, 5)
extra = (-np.array(maps.shape[2:])) % SIZE
pooled = MaxPool2D(SIZE).forward(np.pad(maps, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1]))))
C, H, W = pooled.shape[1:]
lesson.math(
    r",\quad ".join(rf"P_{{{c + 1}}} = {sp.latex(M(pooled[0, c]))}" for c in range(C)),
    text="; ".join(f"P{c + 1} = {pooled[0, c].astype(int).tolist()}" for c in range(C)),
)
lesson.markdown(
    f"{C} pooled maps of {H} x {W}, one per detector ($P_1$ from the detector as on the slides, "
    f"$P_2$ to $P_{C}$ from its turns by 90°, 180° and 270°): {C * H * W} numbers in all."
)

# %% [markdown]
# ## Flattening as an index map
#
# symnn's flatten layer follows NumPy's order: map after map, and in each map row after row.
# Written as an index map, and differentiated:

# %%
lesson.derivation(symnn.derive("flatten"))

# %%
flatten = Flatten()  # generated kernels flatten.forward / .backward
vector = flatten.forward(pooled)
assert vector.shape == (1, C * H * W)
for (c, h, w), v in np.ndenumerate(pooled[0]):  # the index map, position by position
    assert vector[0, c * H * W + h * W + w] == v
lesson.math(
    r"\left("
    + r",\ ".join(
        r"\underbrace{"
        + ", ".join(str(int(v)) for v in vector[0, c * H * W : (c + 1) * H * W])
        + rf"}}_{{P_{{{c + 1}}}}}"
        for c in range(C)
    )
    + r"\right)",
    text="("
    + " | ".join(", ".join(str(int(v)) for v in vector[0, c * H * W : (c + 1) * H * W]) for c in range(C))
    + ")",
)
k_example = (1, 2, 0)  # a position to follow: map 2, row 3, column 1
c, h, w = k_example
k = c * H * W + h * W + w
lesson.markdown(
    f"The vector has {vector.shape[1]} entries. For example, row {h + 1}, column {w + 1} of map "
    f"$P_{{{c + 1}}}$ (all counted from 1; the formula counts from 0) goes to position "
    f"$c \\cdot H W + h W + w = {c} \\cdot {H * W} + {h} \\cdot {W} + {w} = {k}$, that is entry "
    f"{k + 1} of the vector, which holds {int(vector[0, k])} — the value in the map. symnn checks "
    f"all {vector.shape[1]} positions the same way."
)

# %% [markdown]
# ## The backward pass: the errors go back where the values came from
#
# The derivation's last line says that the error of each map value is the error at its
# position in the vector: flattening backwards is just un-flattening. With errors 1, 2, 3, ...
# on the vector, the layer's generated backward kernel gives back:

# %%
errors = np.arange(1, vector.shape[1] + 1, dtype=float)[np.newaxis]
back = flatten.backward(errors)
assert back.shape == pooled.shape and np.array_equal(back.reshape(1, -1), errors)
lesson.math(
    r",\quad ".join(rf"{sp.latex(M(back[0, c]))}" for c in range(C)),
    text="; ".join(f"{back[0, c].astype(int).tolist()}" for c in range(C)),
)
lesson.markdown(
    f"Errors 1 to {H * W} return to the first map, {H * W + 1} to {2 * H * W} to the second, and "
    "so on, each to the cell its value came from. Nothing is lost and nothing is added: "
    "flattening has no weights, and its derivative is a relabelling."
)

fig = Figure(figsize=(10, 3.6), layout="constrained")
grid = fig.add_gridspec(2, C, height_ratios=[3, 1])
colours = ["Blues", "Oranges", "Greens", "Purples"]
top = float(vector.max())
for c in range(C):
    ax = fig.add_subplot(grid[0, c])
    ax.imshow(pooled[0, c], cmap=colours[c % len(colours)], vmin=0, vmax=top * 1.3)
    for (r, q), v in np.ndenumerate(pooled[0, c]):
        ax.text(q, r, str(int(v)), ha="center", va="center", fontsize=11)
    ax.set_title(f"pooled map $P_{{{c + 1}}}$", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
strip = fig.add_subplot(grid[1, :])
for c in range(C):
    seg = np.full((1, vector.shape[1]), np.nan)
    seg[0, c * H * W : (c + 1) * H * W] = vector[0, c * H * W : (c + 1) * H * W]
    strip.imshow(seg, cmap=colours[c % len(colours)], vmin=0, vmax=top * 1.3, aspect="auto")
for kk, v in enumerate(vector[0]):
    strip.text(kk, 0, str(int(v)), ha="center", va="center", fontsize=8)
strip.set_yticks([])
strip.set_xticks(range(0, vector.shape[1], H * W))
strip.set_xticklabels([str(kk + 1) for kk in range(0, vector.shape[1], H * W)])
strip.set_title(f"the flattened vector: {vector.shape[1]} input nodes of the next layer", fontsize=10)
flat_fig = lesson.figure(
    fig,
    "flatten",
    f"The {C} pooled maps of the running example (top) and "
    "the vector flattening makes of them (bottom), map after map, row after "
    "row.",
    width=0.95,
)
lesson.markdown(
    f"{flat_fig} shows the layout. This vector is what the fully connected layers of the next "
    "lesson read, one number per input node. A real network has more maps, and larger ones, "
    "but the step is the same."
)
