# %% [markdown]
# Step 2 is **pooling**. A max-pooling layer cuts each feature map into small windows — here
# 2 x 2, moving 2 cells at a time (stride 2) — and keeps only the largest value of each
# window. The pooled map is four times smaller, yet it still says where each feature was found
# and how strongly. Pooling makes the network less sensitive to exactly where a feature sits —
# a feature that moves a little inside its window gives the same pooled value — and it cuts
# the number of values the later layers must handle, which saves computation and leaves fewer
# weights to overfit.

# %%
import numpy as np
import sympy as sp
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

import symnn
from symnn.course import Lesson
from symnn.nn import MaxPool2D, ReLU
from symnn.vision import feature_maps, filters
from symnn.vision.images import default_image

lesson = Lesson(10, "Step 2 - Max pooling", reading=["wu"])


def M(a):
    return sp.ImmutableMatrix(np.asarray(a).astype(int))


def fmt(v) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def rows_of(a) -> str:
    """A small matrix in a sentence: its rows, top to bottom."""
    return " and ".join("(" + ", ".join(fmt(v) for v in row) + ")" for row in np.asarray(a))


# %% [markdown]
# ## Pooling the lecture's feature map
#
# The feature map of lesson 8 (the lecture's image under the lecture's detector, after ReLU,
# which changes nothing here because no value is negative) is 5 x 5. Whole 2 x 2 windows cover
# only its first 4 rows and columns; to keep the last row and column too, frame the map with a
# row and a column of zeros. Zeros never win: after ReLU no value is below 0.

# %%
SIZE = 2
fmap = symnn.feature_map(feature_maps.LECTURE_IMAGE, feature_maps.LECTURE_DETECTOR)
rectified = ReLU().forward(fmap[np.newaxis, np.newaxis])[0, 0]
assert np.array_equal(rectified, fmap)
extra = (-np.array(fmap.shape)) % SIZE  # rows and columns to add for whole windows
framed = np.pad(rectified, ((0, extra[0]), (0, extra[1])))
pool = MaxPool2D(SIZE)  # generated kernels maxpool.forward / maxpool.backward
pooled = pool.forward(framed[np.newaxis, np.newaxis])[0, 0]
whole = MaxPool2D(SIZE).forward(rectified[np.newaxis, np.newaxis])[0, 0]
lesson.math(
    rf"\mathrm{{maxpool}}_{{{SIZE} \times {SIZE}}}\left({sp.latex(M(framed))}\right) = "
    rf"{sp.latex(M(pooled))}",
    text=f"maxpool {SIZE}x{SIZE} of {framed.astype(int).tolist()} = {pooled.astype(int).tolist()}",
)
lesson.markdown(
    f"The framed map is {framed.shape[0]} x {framed.shape[1]}, so the pooled map is "
    f"{pooled.shape[0]} x {pooled.shape[1]}: {pooled.size} values instead of {fmap.size}. Without the "
    f"frame the layer would pool only the top-left {SIZE * whole.shape[0]} x {SIZE * whole.shape[1]} "
    f"block, into rows {rows_of(whole)}, and drop the last row and column. The largest value, "
    f"{fmt(pooled.max())}, survives pooling: the place where the detector found its whole "
    "pattern is still marked, one pooled cell standing for a 2 x 2 window."
)

# %%
slide_framed = np.pad(feature_maps.SLIDE_MAP, ((0, extra[0]), (0, extra[1])))
slide_pooled = MaxPool2D(SIZE).forward(slide_framed[np.newaxis, np.newaxis])[0, 0]
bad = next(zip(*np.nonzero(feature_maps.SLIDE_MAP != fmap)))
window = (bad[0] // SIZE, bad[1] // SIZE)
top, left = window[0] * SIZE, window[1] * SIZE
lesson.markdown(
    f"The slides' wrong cell (row {bad[0] + 1}, column {bad[1] + 1}: {fmt(feature_maps.SLIDE_MAP[bad])} "
    f"instead of {fmt(fmap[bad])}) does not matter here: it falls in the window with rows "
    f"{rows_of(fmap[top : top + SIZE, left : left + SIZE])}, whose maximum is {fmt(pooled[window])} "
    "either way, and pooling the slides' map gives "
    + ("the same pooled map." if np.array_equal(slide_pooled, pooled) else f"rows {rows_of(slide_pooled)}.")
)

# %% [markdown]
# ## The derivative of a maximum
#
# Back-propagation needs the derivative of the pooled value with respect to each value of its
# window. Only the maximum matters, so the derivative is 1 for the maximum and 0 for the
# others: the error goes back to the one cell that won. When several values tie for the
# maximum, a choice must be made; symnn writes the first maximum as a product of step
# functions, so that its derivative gives all of the error to the first of the tied values, as
# PyTorch does:

# %%
lesson.derivation(symnn.derive("maxpool"))

# %% [markdown]
# ## The error goes back to the winner
#
# With numbers: let the errors arriving at the pooled map be 1, 2, ..., 9 (so that each one can
# be followed), and let the layer's generated backward kernel send them back.

# %%
delta = np.arange(1, pooled.size + 1, dtype=float).reshape(pooled.shape)
routed = pool.backward(delta[np.newaxis, np.newaxis])[0, 0]
lesson.math(
    rf"\delta = {sp.latex(M(delta))} \quad\longrightarrow\quad {sp.latex(M(routed))}",
    text=f"δ = {delta.astype(int).tolist()} -> {routed.astype(int).tolist()}",
)
ties = []
for (i, j), _ in np.ndenumerate(pooled):
    win = framed[i * SIZE : (i + 1) * SIZE, j * SIZE : (j + 1) * SIZE]
    n_max = int(np.sum(win == win.max()))
    got = np.argwhere(routed[i * SIZE : (i + 1) * SIZE, j * SIZE : (j + 1) * SIZE] == delta[i, j])
    assert len(got) == 1 and win[tuple(got[0])] == win.max()
    if n_max > 1:
        ties.append((i, j, n_max, tuple(got[0]), win))
assert routed.sum() == delta.sum()
first = ties[0]
lesson.markdown(
    f"Every error lands on the cell that was its window's maximum, and every other cell gets 0: "
    f"those values did not affect the output, so changing them would not change the cost. The "
    f"errors still add up to {fmt(routed.sum())}, as they must. {len(ties)} of the {pooled.size} "
    f"windows hold a tie; the first, window ({first[0] + 1}, {first[1] + 1}) with rows "
    f"{rows_of(first[4])}, has {first[2]} equal maxima, and the whole error "
    f"{fmt(delta[first[0], first[1]])} goes to the first of them in reading order (row "
    f"{first[3][0] + 1}, column {first[3][1] + 1} of the window), as the derivation says."
)


COLOURS = [
    "tab:blue",
    "tab:orange",
    "tab:green",
    "tab:red",
    "tab:purple",
    "tab:brown",
    "tab:pink",
    "tab:olive",
    "tab:cyan",
]


def draw(ax, a, title, box=SIZE):
    """Numbers in a grid; each pooling window (box = SIZE) or pooled cell (box = 1) framed in
    its own colour, so that a window and its pooled value share a colour."""
    ax.imshow(np.zeros_like(a), cmap="Greys", vmin=0, vmax=1)
    for (r, c), v in np.ndenumerate(a):
        ax.text(c, r, fmt(v), ha="center", va="center", fontsize=10, color="black" if v else "0.6")
    for n, ((i, j), _) in enumerate(np.ndenumerate(pooled)):
        ax.add_patch(
            Rectangle(
                (j * box - 0.45, i * box - 0.45), box - 0.1, box - 0.1, fill=False, ec=COLOURS[n % len(COLOURS)], lw=2
            )
        )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)


fig = Figure(figsize=(10, 3.4), layout="constrained")
axes = fig.subplots(1, 4, width_ratios=[2, 1.2, 1.2, 2])
draw(axes[0], framed, "feature map, framed, in 2 x 2 windows")
draw(axes[1], pooled, "pooled map", box=1)
draw(axes[2], delta, "errors arriving", box=1)
draw(axes[3], routed, "errors sent back")
pool_fig = lesson.figure(
    fig,
    "pooling",
    "Max pooling of the lecture's feature map (left), and "
    "its backward pass: each error returns to its window's maximum (right).",
    width=0.95,
)
lesson.markdown(f"{pool_fig} puts the forward and the backward pass side by side.")

# %% [markdown]
# ## Pooling a photograph's feature map
#
# The ReLU'd feature map of the photograph from lesson 9, pooled twice:

# %%
grey = default_image().mean(axis=2) / 255.0
photo_map = ReLU().forward(symnn.feature_map(grey, filters.KERNELS["edge-enhance"])[np.newaxis, np.newaxis])
once = MaxPool2D(SIZE).forward(photo_map)
twice = MaxPool2D(SIZE).forward(once)
lim = float(np.quantile(photo_map, 0.99))
fig = Figure(figsize=(10, 3.9), layout="constrained")
axes = fig.subplots(1, 3)
for ax, (title, a) in zip(
    axes, [("feature map after ReLU", photo_map), ("pooled once", once), ("pooled twice", twice)]
):
    ax.imshow(a[0, 0], cmap="Blues", vmin=0, vmax=lim)
    ax.set_title(f"{title}: {a.shape[2]} x {a.shape[3]}", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
photo_fig = lesson.figure(
    fig,
    "photo",
    "A feature map of the photograph, max-pooled 2 x 2 once and twice (each shown at the same size).",
    width=0.95,
)
lesson.markdown(
    f"{photo_fig}: each pooling keeps about a quarter of the values — {photo_map[0, 0].size:,} become "
    f"{once[0, 0].size:,}, then {twice[0, 0].size:,} — and the edges are still there, even "
    f"stronger to the eye: the mean value rises from {photo_map.mean():.4f} to {once.mean():.4f} "
    f"and {twice.mean():.4f}, because each pooled value is the strongest response of its window."
)

# %%
# Exercises for the chapter's end; `symnn check --exercise ID FILE` grades an answer.
lesson.exercise(
    "Derive $\\partial L/\\partial x_1$ for a 2x2 max-pool window: where does the gradient go?",
    "dL/dx_1",
    """given m = max(x_1, x_2, x_3, x_4)
given L = g*m""",
)
lesson.exercise(
    "The same for average pooling.",
    "dL/dx_1",
    """given m = (x_1 + x_2 + x_3 + x_4)/4
given L = g*m""",
)
