# %% [markdown]
# The first step of a convolutional network is the **convolution**: a small grid of numbers,
# the *feature detector* (also called kernel or filter), slides over the image, and at every
# position the pixels under it are multiplied by the detector's numbers and added up. The
# results form a new, smaller image, the **feature map**: it is large where the image looks
# like the detector and small elsewhere. This lesson starts from the mathematical definition,
# fills in the lecture's feature map cell by cell (and finds a wrong cell on the slides), builds
# a convolutional layer from several detectors, and runs the image filters of GIMP, which are
# convolutions too, on a real photograph.

# %%
import dataclasses

import numpy as np
import sympy as sp
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

import symnn
from symnn.course import Lesson
from symnn.render.latex import tex
from symnn.render.text import show
from symnn.vision import convolve, feature_maps, filters, step_tables
from symnn.vision.images import default_image, default_image_path

lesson = Lesson(8, "Step 1 - Convolution", reading=["wu", "gimp"])

# %% [markdown]
# ## The definition
#
# The slides define the convolution of two functions as an integral: slide one function,
# flipped, along the other, and integrate the product. On images the integral becomes a sum
# over pixels. Convolutional layers actually compute the version without the flip, the
# *cross-correlation*; since a network learns its detectors, the flip makes no difference to
# what it can learn, and the lecture's example uses the cross-correlation too. symnn derives
# how the three are related:

# %%
conv = symnn.derive("conv2d", verify=False)  # the whole topic; the part shown is verified below
heads = [n for n, s in enumerate(conv.steps) if s.is_heading]
backward_at = next(n for n in heads if conv.steps[n].note.startswith("Backward pass"))


definitions = dataclasses.replace(  # its first sections, verified by SymPy like a whole derivation
    conv,
    title="Convolution and cross-correlation",
    steps=conv.steps[:backward_at],
    goals=[],
    intro="Mathematicians convolve with a flipped kernel; convolutional layers compute the "
    "cross-correlation, which does not flip it.",
    verified=False,
).verify()
lesson.derivation(definitions)
lesson.markdown(
    "The last line is the whole difference: a cross-correlation with a detector is a "
    "convolution with the detector turned by 180°. From here on, \"convolution\" means what "
    "the layers compute, the cross-correlation $(I \\star K)[i, j] = \\sum_m \\sum_n "
    "I[i + m, j + n]\\, K[m, n]$."
)

# %% [markdown]
# ## The lecture's feature map, cell by cell
#
# The lecture's input image is 7 x 7 pixels (the face of lesson 7) and its feature detector
# 3 x 3. The detector starts at the top-left corner of the image; the nine pixels under it are
# multiplied by the detector's nine numbers, and the sum of the products is the first cell of
# the feature map. Then the detector moves one pixel to the right (the *stride* is 1) for the
# next cell, and at the end of a row it goes back to the left, one pixel lower.

# %%
table = step_tables.steps()  # the lecture's example: every cell checked against the generated kernel
image, detector, fmap = table.image, table.kernel, table.feature_map
H, W = image.shape
kh, kw = detector.shape
Ho, Wo = fmap.shape


def matrix(a) -> sp.ImmutableMatrix:
    return sp.ImmutableMatrix(np.asarray(a).astype(int))


lesson.math(
    rf"{sp.latex(matrix(image))} \star {sp.latex(matrix(detector))} = {sp.latex(matrix(fmap))}",
    text=f"{H}x{W} image ⋆ {kh}x{kw} detector = {Ho}x{Wo} feature map {np.asarray(fmap).astype(int).tolist()}",
)
lesson.markdown(
    f"A {kh} x {kw} detector fits in {H - kh + 1} positions across a {W}-pixel row and "
    f"{H - kh + 1} down a {H}-pixel column, so the feature map is {Ho} x {Wo}: a "
    "convolution makes the image smaller (unless the image is first framed with zeros, "
    "*padding*). Every cell below is the sum of the nine products of a window of the image with "
    "the detector; symnn evaluates each product from SymPy's summand "
    "$I[i + m, j + n]\\, K[m, n]$ and checks the sum against the generated kernel "
    "`conv2d.layer_forward`, which computed the map."
)


def fmt(v) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() else f"{v:g}"


rows = []
for k, cell in enumerate(table.cells, 1):
    terms = " + ".join(fmt(p) for row in cell.products for p in row)
    slide = fmt(feature_maps.SLIDE_MAP[cell.row, cell.col])
    rows.append(
        [
            k,
            f"({cell.row + 1}, {cell.col + 1})",
            terms,
            fmt(cell.total),
            f"**{slide}** (wrong)" if cell.slide is not None else slide,
        ]
    )
steps_table = lesson.table(
    ["step", "cell (row, column)", "the nine products", "sum", "the slides"],
    rows,
    caption="The feature map, cell by cell: the products of each window "
    "with the detector, row by row, their sum, and the value the "
    "slides print.",
)

# %%
wrong = table.disagreements()
biggest = max(table.cells, key=lambda c: c.total)
shown = sorted(
    {(c.row, c.col): c for c in [table.cells[0], table.cells[1], biggest, *wrong]}.values(),
    key=lambda c: (c.row, c.col),
)


def draw_grid(ax, a, window=None, upto=None, flag=None, title="", shade=False):
    """A small matrix with its numbers; a red frame for the window under the detector, or for
    the cell just filled in (cells after it blank); shade=True colours the cells by value."""
    rows_, cols_ = a.shape
    top_value = max(1.0, float(np.max(a)))
    ax.imshow(a if shade else np.zeros_like(a, dtype=float), cmap="Blues", vmin=0, vmax=top_value)
    for (r, c), v in np.ndenumerate(a):
        hidden = upto is not None and r * cols_ + c > upto
        colour = "tab:red" if flag == (r, c) else "white" if shade and v > 0.6 * top_value else "black" if v else "0.55"
        ax.text(
            c,
            r,
            "" if hidden else fmt(v),
            ha="center",
            va="center",
            fontsize=9,
            color=colour,
            fontweight="bold" if flag == (r, c) else "normal",
        )
    for x in range(cols_ + 1):
        ax.axvline(x - 0.5, color="0.85", lw=0.6)
    for y in range(rows_ + 1):
        ax.axhline(y - 0.5, color="0.85", lw=0.6)
    if window is not None:
        top, left = window
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), kw, kh, fill=False, ec="tab:red", lw=2))
    if upto is not None:
        r, c = divmod(upto, cols_)
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, ec="tab:red", lw=2))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)


fig = Figure(figsize=(10, 5.0), layout="constrained")
axes = fig.subplots(2, len(shown))
for n, cell in enumerate(shown):
    k = cell.row * Wo + cell.col + 1
    draw_grid(axes[0, n], image, window=(cell.top, cell.left), title=f"step {k}: the window")
    draw_grid(
        axes[1, n],
        fmap,
        upto=cell.row * Wo + cell.col,
        flag=(cell.row, cell.col) if cell.slide is not None else None,
        title=f"{fmt(cell.total)} at ({cell.row + 1}, {cell.col + 1})"
        + (f"; the slides: {fmt(cell.slide)}" if cell.slide is not None else ""),
    )
slides_fig = lesson.figure(
    fig,
    "steps",
    f"{len(shown)} of the {len(table.cells)} steps: the window "
    "under the detector (top, in red) and the feature map filled in so far "
    "(bottom; the slides' wrong cell in red).",
    width=0.95,
)
n_ones = int(detector.sum())
match = int(np.sum((biggest.window == 1) & (detector == 1)))
lesson.markdown(
    f"{slides_fig} shows {len(shown)} of the steps of {steps_table}. The largest value, "
    f"{fmt(biggest.total)}, is at row {biggest.row + 1}, column {biggest.col + 1}: the detector has "
    f"{n_ones} ones, and in that window {match} of them lie on ones of the image — the pattern "
    "the detector describes is there exactly. That is what a feature map records: *where*, and "
    "how strongly, the image contains the detector's feature."
)

# %% [markdown]
# ## A wrong cell on the slides

# %%
assert len(wrong) == 1, "the slides print one wrong cell"
bad = wrong[0]
bad_products = np.array([[float(p) for p in row] for row in bad.products])
agree = fmap.size - len(wrong)
lesson.markdown(
    f"Comparing the computed map with the slides, {agree} of the {fmap.size} cells agree. At "
    f"row {bad.row + 1}, column {bad.col + 1} the slides print {fmt(bad.slide)}, but symnn "
    f"computes {fmt(bad.value)}. The window there, the detector and their products:"
)
lesson.math(
    rf"{sp.latex(matrix(bad.window))} \odot {sp.latex(matrix(detector))} = "
    rf"{sp.latex(matrix(bad_products))}, \qquad "
    rf"\text{{sum}} = {' + '.join(fmt(p) for p in bad_products.ravel())} = {fmt(bad.total)}",
    text=f"window {bad.window.astype(int).tolist()} ⊙ detector = products "
    f"{bad_products.astype(int).tolist()}, sum = {fmt(bad.total)}",
)
lesson.note(
    f"The slides are wrong at row {bad.row + 1}, column {bad.col + 1} of the feature map: "
    f"{bad.why}. The slides' own image and detector give {fmt(bad.value)}, not "
    f"{fmt(bad.slide)}."
)
flipped = symnn.feature_map(image, np.rot90(detector, 2))  # a true convolution: the detector flipped
lesson.markdown(
    f"The slides did use the cross-correlation: with the detector flipped (a true convolution) "
    f"the map would differ from the slides in {int(np.sum(flipped != feature_maps.SLIDE_MAP))} of "
    f"its {fmap.size} cells, not in {len(wrong)}."
)

# %% [markdown]
# ## Several feature maps make a convolutional layer
#
# One detector finds one feature. A convolutional layer applies many detectors to the same
# image, each giving its own feature map, and stacks the maps: the layer's output has one
# channel per detector. Here the lecture's detector and the same detector turned by 90°, 180°
# and 270° look for the same pattern in four orientations; symnn computes the four maps in one
# call, `feature_map(image, detectors)` with the detectors stacked into a
# (4, 1, 3, 3) array.

# %%
TURNS = (0, 1, 2, 3)  # quarter turns, counter-clockwise
detectors = np.stack([np.rot90(detector, t) for t in TURNS])[:, np.newaxis]
layer = symnn.feature_map(image, detectors)
assert np.array_equal(layer[0], fmap)
fig = Figure(figsize=(10, 5.0), layout="constrained")
axes = fig.subplots(2, len(TURNS))
best = []
for n, t in enumerate(TURNS):
    draw_grid(axes[0, n], detectors[n, 0], title=f"detector turned {90 * t}°", shade=True)
    peak = np.unravel_index(int(np.argmax(layer[n])), layer[n].shape)
    best.append((float(layer[n].max()), peak))
    draw_grid(
        axes[1, n],
        layer[n],
        title=f"its map: largest {fmt(layer[n].max())} at ({peak[0] + 1}, {peak[1] + 1})",
        shade=True,
    )
layer_fig = lesson.figure(
    fig,
    "layer",
    "A convolutional layer of four detectors (top): the "
    "lecture's and its quarter turns. Each gives a feature map (bottom); "
    "together they are the layer's four-channel output.",
    width=0.95,
)
lesson.markdown(
    f"{layer_fig}: the layer's output has shape {layer.shape} — {layer.shape[0]} maps of "
    f"{layer.shape[1]} x {layer.shape[2]}. The largest values are "
    + ", ".join(f"{fmt(v)} ({90 * t}°)" for (v, _), t in zip(best, TURNS))
    + f": only the detector in its original orientation finds its whole pattern of {n_ones} "
    "ones. In a trained network the detectors are not chosen by hand; they are weights, learned "
    "by back-propagation like any other."
)

# %% [markdown]
# ## How a network learns its detectors
#
# The detector's numbers are weights, so training needs $\partial L / \partial K$. The
# convolution is a sum of products; differentiating it with respect to one detector entry
# $K[p, q]$, the Kronecker deltas of lesson 5 collapse the sum, and what is left is two more
# cross-correlations. Wu (2017) derives the same gradients with matrices and Kronecker
# products; the equation on the lecture's slide is one step of his derivation. With
# $G[i, j] = \partial L / \partial Y[i, j]$ the error arriving from the layer above ($\delta$),
# `symnn derive conv2d` finds, step by step:

# %%
for goal in conv.goals[:2]:
    lesson.math(
        rf"\frac{{\partial L}}{{\partial {tex(goal.var)}}} = {tex(goal.result)}",
        text=f"{goal.name} = {show(goal.result)}",
    )
lesson.markdown(
    "The first is the gradient of the detector: the input image cross-correlated with the "
    "error. The second sends the error on to the layer below: each input pixel collects the "
    "errors of the windows it was part of, weighted by the detector."
)

# %%
SEED = 0
G = np.random.default_rng(SEED).normal(size=fmap.shape)  # an error δ from above, for the check
by_formula = symnn.feature_map(image, G)  # ∂L/∂K = X ⋆ G: a feature map too
EPS = 1e-6
by_difference = np.zeros_like(detector)
for (m, n), _ in np.ndenumerate(detector):
    up, down = detector.copy(), detector.copy()
    up[m, n] += EPS
    down[m, n] -= EPS
    by_difference[m, n] = (np.sum(G * symnn.feature_map(image, up)) - np.sum(G * symnn.feature_map(image, down))) / (
        2 * EPS
    )
gap = float(np.max(np.abs(by_formula - by_difference)))
assert gap < 1e-6
lesson.markdown(
    f"A check with numbers: take a random error $G$ (normal, seed {SEED}) of the feature map's "
    f"size, {Ho} x {Wo}, and $L = \\sum_{{i,j}} G[i, j]\\, Y[i, j]$. The derived "
    f"$\\partial L / \\partial K = X \\star G$ is itself a feature map — of the image under the "
    f"{Ho} x {Wo} \"detector\" $G$ — so `symnn.feature_map(image, G)` computes it:"
)
lesson.table(
    ["$m$"] + [f"$n = {n + 1}$: $X \\star G$" for n in range(kw)] + [f"$n = {n + 1}$: difference" for n in range(kw)],
    [
        [m + 1] + [f"{by_formula[m, n]:.6f}" for n in range(kw)] + [f"{by_difference[m, n]:.6f}" for n in range(kw)]
        for m in range(kh)
    ],
    caption=f"$\\partial L / \\partial K[m, n]$ for the lecture's image: the derived "
    f"formula against central differences of $L$ (step {EPS:g}).",
)
lesson.markdown(
    f"They agree to {gap:.1e}. The detector's gradient is large where the image has ones under "
    "large errors: training moves each detector towards the patterns that reduce the cost."
)

# %% [markdown]
# ## The same operation on a photograph: GIMP's filters
#
# Image editors sharpen, blur and find edges with the same sum of products. GIMP's
# "Convolution Matrix" filter takes a 5 x 5 matrix (smaller kernels sit in a frame of zeros);
# each output pixel is the sum of the products of the kernel with the pixels around it, divided
# by a *divisor*, plus an *offset*. With "Normalise" ticked, GIMP picks the divisor from the
# kernel's sum so that flat areas keep their brightness, and, when the kernel sums to 0, adds
# 128 so that flat areas become mid-grey instead of black. The lecture's five kernels:

# %%
NAMES = ("sharpen", "blur", "edge-enhance", "edge-detect", "emboss")
TITLES = {
    "sharpen": "Sharpen",
    "blur": "Blur",
    "edge-enhance": "Edge enhance",
    "edge-detect": "Edge detect",
    "emboss": "Emboss",
}
rows = []
for name in NAMES:
    k = filters.KERNELS[name]
    norm = filters.normalisation(k)
    rows.append([TITLES[name], matrix(k), fmt(k.sum()), fmt(norm.divisor), fmt(norm.offset)])
lesson.table(
    ["filter", "kernel $K$", r"$\sum K$", "divisor", "offset"],
    rows,
    caption="The lecture's GIMP kernels (docs.gimp.org, Convolution Matrix) and the "
    "divisor and offset GIMP's \"Normalise\" gives them, from `symnn.vision.filters`.",
)

# %%
photo = default_image()
out = {name: convolve.apply(photo, name, border="extend", specialise=False, parallel=False) for name in NAMES}
lesson.markdown(
    f"symnn's `convolve.apply` runs them on its bundled photograph, `{default_image_path().name}` "
    f"({photo.shape[0]} x {photo.shape[1]} pixels, three colour channels, each filtered on its "
    "own), with generated kernels; pixels beyond the border repeat the edge pixels (GIMP's "
    "\"extend\")."
)
fig = Figure(figsize=(10, 7.6), layout="constrained")
axes = fig.subplots(2, 3)
for ax, (title, img) in zip(axes.ravel(), [("Original", photo)] + [(TITLES[n], out[n]) for n in NAMES]):
    ax.imshow(img)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
photo_fig = lesson.figure(
    fig, "gimp_filters", "The lecture's five GIMP filters on the bundled photograph, computed by symnn.", width=0.9
)
TOP, LEFT, SIZE = 170, 180, 160  # a close-up: the eyes and glasses
fig = Figure(figsize=(10, 2.2), layout="constrained")
axes = fig.subplots(1, 6)
for ax, (title, img) in zip(axes, [("Original", photo)] + [(TITLES[n], out[n]) for n in NAMES]):
    ax.imshow(img[TOP : TOP + SIZE, LEFT : LEFT + SIZE], interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
zoom_fig = lesson.figure(
    fig,
    "gimp_zoom",
    f"A close-up ({SIZE} x {SIZE} pixels from row {TOP + 1}, column {LEFT + 1}) of each image above.",
    width=0.95,
)

# %%
r, c, ch = TOP + SIZE // 2, LEFT + SIZE // 2, 0  # one pixel of the red channel, worked by hand
block = photo[r - 1 : r + 2, c - 1 : c + 2, ch].astype(int)
blur_k = filters.KERNELS["blur"]
divisor = filters.normalisation(blur_k).divisor
by_hand = block.sum() / divisor
lesson.markdown(
    f"{photo_fig} shows the whole picture and {zoom_fig} a close-up. Blur averages each pixel "
    "with its neighbours, sharpen does the opposite (the pixel, minus its neighbours' "
    "excess), edge detect keeps only the changes — flat areas become the offset's mid-grey — "
    "and emboss lights the edges from one side. One blurred pixel worked out: the red values "
    f"around row {r + 1}, column {c + 1} are"
)
lesson.math(
    rf"{sp.latex(matrix(block))},\qquad \frac{{{' + '.join(map(str, block.ravel()))}}}"
    rf"{{{fmt(divisor)}}} = \frac{{{block.sum()}}}{{{fmt(divisor)}}} = {by_hand:.4f}",
    text=f"{block.tolist()}: sum {block.sum()} / {fmt(divisor)} = {by_hand:.4f}",
)
assert out["blur"][r, c, ch] == np.rint(by_hand)
lesson.markdown(
    f"which rounds to {int(np.rint(by_hand))}, the value symnn's blurred image holds there. A "
    "filter in an image editor and a feature detector in a network are the same operation; "
    "the difference is that a network learns its kernels."
)

# %%
# Exercises for the chapter's end; `symnn check --exercise ID FILE` grades an answer.
SETUP = """given y_11 = x_11*k_11 + x_12*k_12 + x_21*k_21 + x_22*k_22
given y_12 = x_12*k_11 + x_13*k_12 + x_22*k_21 + x_23*k_22
given y_21 = x_21*k_11 + x_22*k_12 + x_31*k_21 + x_32*k_22
given y_22 = x_22*k_11 + x_23*k_12 + x_32*k_21 + x_33*k_22
given L = g_11*y_11 + g_12*y_12 + g_21*y_21 + g_22*y_22"""
lesson.exercise(
    "A 3x3 input, a 2x2 kernel, upstream gradients $g$: derive the kernel gradient $\\partial L/\\partial k_{11}$.",
    "dL/dk_11",
    SETUP,
)
lesson.exercise(
    "Derive the input gradient $\\partial L/\\partial x_{22}$: which kernel entry meets which $g$?", "dL/dx_22", SETUP
)
