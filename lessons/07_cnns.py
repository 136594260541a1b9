# %% [markdown]
# Convolutional neural networks (CNNs) are the networks that read images: they recognise
# handwritten digits, faces, road signs and tumours. Yann LeCun's LeNet, trained on
# handwritten digits, showed the way (LeCun et al., 1998). The plan of the next lessons follows
# the lecture: convolution, ReLU, pooling, flattening and the full connection, and finally
# softmax and cross-entropy. First: what does a network see when it looks at a picture?
# Numbers — an image is an array of pixel values.

# %%
import numpy as np
import sympy as sp
from matplotlib.figure import Figure

from symnn.course import Lesson
from symnn.vision import feature_maps
from symnn.vision.images import default_image, default_image_path, to_channels_first

lesson = Lesson(7, "CNNs: what they are", reading=["lecun"])

# %% [markdown]
# ## A black-and-white image is a 2-D array
#
# To get a tiny image from a real one, symnn takes its bundled photograph and averages it
# down: every pixel of the small image is the mean of a block of the photo.

# %%
photo = default_image()  # (height, width, 3), values 0..255
height, width, _ = photo.shape
SIZE = 2  # the lecture's 2x2 pixel images


def shrink(img: np.ndarray, size: int) -> np.ndarray:
    """Average an (H, W) or (H, W, C) image down to size x size pixels (whole blocks only)."""
    bh, bw = img.shape[0] // size, img.shape[1] // size
    blocks = img[: bh * size, : bw * size].reshape(size, bh, size, bw, *img.shape[2:]).astype(np.float64)
    return np.rint(blocks.mean(axis=(1, 3))).astype(np.uint8)


gray = shrink(photo.mean(axis=2), SIZE)  # black and white: one number per pixel
colour = shrink(photo, SIZE)  # colour: three numbers per pixel
channels = to_channels_first(colour)  # (3, 2, 2): the red, green and blue arrays
lesson.markdown(
    f"The photo `{default_image_path().name}` has {height} x {width} pixels. Averaged down to "
    f"{SIZE} x {SIZE} pixels in shades of grey, each pixel is one number from 0 (black) to "
    f"{np.iinfo(gray.dtype).max} (white), and the image is a 2-D array of shape {gray.shape}:"
)
lesson.math(sp.Matrix(gray.astype(int)), text=str(gray.tolist()))

# %% [markdown]
# ## A colour image is a 3-D array
#
# A colour pixel mixes red, green and blue light, so it takes three numbers. The colour image
# is three 2-D arrays stacked: the red, green and blue channels, a 3-D array.

# %%
names = ("red", "green", "blue")
lesson.markdown(
    f"The same photo averaged down in colour has shape {colour.shape} as read (row, column, "
    f"channel); symnn's convolutions take channels first, {channels.shape}, one "
    f"{SIZE} x {SIZE} array per channel:"
)
lesson.math(
    r",\quad ".join(rf"\text{{{n}}} = {sp.latex(sp.Matrix(c.astype(int)))}" for n, c in zip(names, channels)),
    text="; ".join(f"{n} = {c.tolist()}" for n, c in zip(names, channels)),
)

fig = Figure(figsize=(10, 2.9), layout="constrained")
axes = fig.subplots(1, 5)
panels = [("black and white (2-D)", gray, "gray", None)]
panels += [("colour (3-D)", colour, None, None)]
panels += [(f"{n} channel", c, None, n.capitalize() + "s") for n, c in zip(names, channels)]
top = int(np.iinfo(gray.dtype).max)
for ax, (title, img, cmap, cmap_name) in zip(axes, panels):
    if img.ndim == 2:
        ax.imshow(img, cmap=cmap_name or cmap, vmin=0, vmax=top)
        for (r, c), v in np.ndenumerate(img):
            ax.text(
                c,
                r,
                str(v),
                ha="center",
                va="center",
                fontsize=12,
                bbox={"facecolor": "white", "alpha": 0.75, "linewidth": 0},
            )
    else:
        ax.imshow(img)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
bw_colour = lesson.figure(
    fig,
    "pixels",
    f"A {SIZE} x {SIZE} black-and-white image (one array) "
    f"and a {SIZE} x {SIZE} colour image (three arrays: red, green and blue), "
    "averaged down from the bundled photograph.",
    width=0.95,
)

# %% [markdown]
# ## The lecture's example image
#
# The lecture's convolution example (lesson 8) starts from a small black-and-white image in
# which 1 marks a dark pixel and 0 a light one — a smiling face.

# %%
LECTURE_IMAGE = feature_maps.LECTURE_IMAGE.astype(int)  # the input image of the "Step 1 - Convolution" slides
rows_, cols_ = LECTURE_IMAGE.shape
fig = Figure(figsize=(4.2, 4.2), layout="constrained")
ax = fig.add_subplot()
ax.imshow(LECTURE_IMAGE, cmap="Greys", vmin=0, vmax=1.6)
for (r, c), v in np.ndenumerate(LECTURE_IMAGE):
    ax.text(c, r, str(v), ha="center", va="center", fontsize=12, color="white" if v else "0.3")
ax.set_xticks(range(cols_))
ax.set_yticks(range(rows_))
ax.set_xticklabels(range(1, cols_ + 1))
ax.set_yticklabels(range(1, rows_ + 1))
face = lesson.figure(
    fig,
    "lecture_image",
    f"The lecture's {rows_} x {cols_} input image as an array: the network sees only these numbers.",
    width=0.45,
)
lesson.markdown(
    f"{face} is a {rows_} x {cols_} array holding {int(LECTURE_IMAGE.sum())} ones among "
    f"{LECTURE_IMAGE.size} pixels. A CNN never sees \"a face\": it sees this array, and "
    "lesson 8 slides a small *feature detector* over it to find the patterns it is made of."
)
