# %% [markdown]
# Step 1(b) of a convolutional network follows every convolution: the **rectifier**,
# $\mathrm{ReLU}(z) = \max(0, z)$, applied to every value of every feature map. Negative values
# become 0; positive values pass unchanged. Why? A convolution only multiplies and adds, so a
# stack of convolutions is still one big linear function of the pixels, while what makes an
# image a cat or a digit — edges, corners, where dark meets light — is anything but linear. The
# rectifier is the simplest way to break the linearity, and it keeps only the places where a
# detector found its feature (positive values), forgetting the places where it found the
# opposite.

# %%
import numpy as np
import sympy as sp
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

import symnn
from symnn.course import Lesson
from symnn.nn import ReLU
from symnn.vision import feature_maps, filters
from symnn.vision.images import default_image

lesson = Lesson(9, "Step 1(b) - ReLU layer", reading=["wu"])

# %% [markdown]
# ## The rectifier and its derivative
#
# ReLU has a corner at 0, so its derivative needs care: the slope is 1 on the right and 0 on
# the left, and at 0 itself there is no derivative at all. The backward pass must still pass
# *some* number there; symnn derives the two slopes and states its choice:

# %%
lesson.derivation(symnn.derive("relu"))

# %% [markdown]
# ## A feature map before and after ReLU
#
# The lecture's feature detector of lesson 8 holds only zeros and ones, so its feature map
# has no negative values and ReLU would change nothing. Most detectors have negative numbers
# too. Take GIMP's edge-detect kernel of lesson 8 as the detector, on the lecture's 7 x 7
# image:

# %%
image = feature_maps.LECTURE_IMAGE
detector = filters.KERNELS["edge-detect"]
fmap = symnn.feature_map(image, detector)
relu = ReLU()  # the layer: generated kernels relu.forward / .backward
rectified = relu.forward(fmap[np.newaxis, np.newaxis])[0, 0]
passed = relu.backward(np.ones((1, 1, *fmap.shape)))[0, 0]  # ∂ReLU/∂z, one per cell


def M(a):
    return sp.ImmutableMatrix(np.asarray(a).astype(int))


lesson.math(
    rf"{sp.latex(M(image))} \star {sp.latex(M(detector))} = {sp.latex(M(fmap))}",
    text=f"image ⋆ edge detector = {fmap.astype(int).tolist()}",
)
lesson.math(
    rf"\mathrm{{ReLU}}\left({sp.latex(M(fmap))}\right) = {sp.latex(M(rectified))}",
    text=f"ReLU(feature map) = {rectified.astype(int).tolist()}",
)
negative, zero, positive = int(np.sum(fmap < 0)), int(np.sum(fmap == 0)), int(np.sum(fmap > 0))
ch, cw = detector.shape[0] // 2, detector.shape[1] // 2
lowest = [(r, c) for r, c in zip(*np.nonzero(fmap == fmap.min()))]
lone = all(
    image[r + ch, c + cw] == 1
    and image[r + ch - 1, c + cw] + image[r + ch + 1, c + cw] + image[r + ch, c + cw - 1] + image[r + ch, c + cw + 1]
    == 0
    for r, c in lowest
)  # the window's centre is a 1, with 0 above, below, left and right
assert lone
lesson.markdown(
    f"Of the {fmap.size} values, {negative} are negative and become 0, {zero} are 0 already, and "
    f"{positive} are positive and pass unchanged. The most negative value, {int(fmap.min())}, "
    f"appears {len(lowest)} times, "
    "each time on a window centred on a 1 of the face with 0 above, below, left and right of "
    "it — the eyes, the nose and the corners of the mouth; the positive values sit around the "
    "ones. After ReLU only those are left."
)

# %%
lesson.markdown(
    "The backward pass multiplies the error coming from above by ReLU's derivative, cell by "
    "cell. With an error of 1 everywhere, the layer passes back:"
)
lesson.math(
    rf"\mathrm{{ReLU}}'\left({sp.latex(M(fmap))}\right) = {sp.latex(M(passed))}",
    text=f"ReLU'(feature map) = {passed.astype(int).tolist()}",
)
assert np.array_equal(passed, (fmap > 0).astype(float))
lesson.markdown(
    f"1 where the feature map was positive, 0 elsewhere — including the {zero} cells where it "
    "was exactly 0: that is the choice ReLU'(0) = 0 made in the derivation, taken by the "
    "generated kernel `relu.backward`. A feature the detector did not find receives no error, "
    "and the detector's weights learn nothing from that spot."
)

# %% [markdown]
# ## On a photograph
#
# The same on the bundled photograph, in grey: the detector below is GIMP's edge-enhance
# kernel of lesson 8 (a pixel minus its left neighbour), used as a feature detector, so without
# GIMP's offset. It is positive where the image gets brighter from left to right and negative
# where it gets darker.

# %%
photo = default_image()
grey = photo.mean(axis=2) / 255.0  # brightness from 0 (black) to 1 (white)
edge = filters.KERNELS["edge-enhance"]
photo_map = symnn.feature_map(grey, edge)
photo_relu = relu.forward(photo_map[np.newaxis, np.newaxis])[0, 0]
share = float(np.mean(photo_map < 0))
lim = float(np.quantile(np.abs(photo_map), 0.99))  # colour scale: 99% of the values fit in it
fig = Figure(figsize=(10, 4.2), layout="constrained")
axes = fig.subplots(1, 3)
axes[0].imshow(grey, cmap="gray", vmin=0, vmax=1)
axes[0].set_title("the photograph, in grey")
im = axes[1].imshow(photo_map, cmap="RdBu", norm=TwoSlopeNorm(0, -lim, lim))
axes[1].set_title("feature map: negative red, positive blue", fontsize=10)
axes[2].imshow(photo_relu, cmap="Blues", vmin=0, vmax=lim)
axes[2].set_title("after ReLU")
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])
fig.colorbar(im, ax=axes[1:], shrink=0.8)
photo_fig = lesson.figure(
    fig,
    "photo",
    "A feature map of the photograph (the edge-enhance "
    "kernel as detector) before and after the ReLU layer; the colours "
    "saturate at the 99th percentile of the values' size.",
    width=0.95,
)
lesson.markdown(
    f"{photo_fig}: the feature map is {photo_map.shape[0]} x {photo_map.shape[1]} (a 3 x 3 "
    f"detector on a {grey.shape[0]} x {grey.shape[1]} image), its values run from "
    f"{photo_map.min():.3f} to {photo_map.max():.3f}, and {100 * share:.1f}% of them are "
    "negative. After ReLU those are 0, and only the edges where the image gets brighter from "
    "left to right remain. A detector followed by ReLU answers one question: is my feature "
    "here, and how strongly?"
)

# %%
# Exercises for the chapter's end; `symnn check --exercise ID FILE` grades an answer.
lesson.exercise(
    "Derive $\\partial L/\\partial z$ through a ReLU (ReLU'(0) = 0, as PyTorch).",
    "dL/dz",
    """given z = w*x + b
given a = relu(z)
given L = g*a""",
)
lesson.exercise(
    "Derive the gradient of a kernel entry $k_1$ through the ReLU of a two-tap convolution.",
    "dL/dk_1",
    """given y = x_1*k_1 + x_2*k_2 + b
given a = relu(y)
given L = g*a""",
)
