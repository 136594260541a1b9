"""Image folders as training data: one sub-folder per class, PNG or JPEG files, resized.

read_images gives X shaped (N, C, H, W) in [0, 1] (C = 1 grey or 3 RGB), labels in the sorted
order of the sub-folder names, and a Preprocessing holding the class names, the size and the
channels. Only regular PNG and JPEG files are decoded (Pillow, with its decompression-bomb limit
as an error); each image's declared size and the whole set's are checked against the memory
limit before decoding. Hidden files and files of other types are skipped.
"""

from __future__ import annotations

import os
import re
import stat
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from symnn.errors import FileError, InputError, SymnnError
from symnn.limits import check_memory
from symnn.nn.preprocessing import Preprocessing
from symnn.nn.tables import label_names, regular_file, shown, stat_path
from symnn.wording import plural

PathLike = str | os.PathLike
SUFFIXES = (".png", ".jpg", ".jpeg")
FORMATS = ["PNG", "JPEG"]
DEFAULT_SIZE = (28, 28)
MAX_SIDE = 4096


def parse_image_size(text: str) -> tuple[int, int]:
    """'28x28' (height x width) or '28' (square) -> (28, 28)."""
    m = re.fullmatch(r"\s*(\d{1,6})\s*(?:[x×X*]\s*(\d{1,6})\s*)?", str(text))
    if not m:
        raise InputError(f"--image-size takes HEIGHTxWIDTH such as 28x28, or one number for a square (got {text!r})")
    h = int(m.group(1))
    w = int(m.group(2)) if m.group(2) else h
    return check_size((h, w))


def check_size(size: object) -> tuple[int, int]:
    """An image size (H, W) of positive integers up to MAX_SIDE."""
    if not (
        isinstance(size, (tuple, list))
        and len(size) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_SIDE for v in size)
    ):
        raise InputError(f"an image size is (height, width), each from 1 to {MAX_SIDE}, e.g. (28, 28); got {size!r}")
    return int(size[0]), int(size[1])


def _entries(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    except OSError as exc:
        raise FileError(f"cannot list the folder {shown(folder)}: {exc.strerror or exc}") from None


def _is_dir(p: Path) -> bool:
    try:
        return stat.S_ISDIR(os.stat(p).st_mode)
    except OSError:
        return False


def image_files(folder: PathLike) -> list[Path]:
    """The PNG and JPEG files directly in folder, sorted by name."""
    return [p for p in _entries(Path(folder)) if p.suffix.lower() in SUFFIXES and not _is_dir(p)]


def class_folders(folder: PathLike) -> list[tuple[str, list[Path]]]:
    """(class name, its image files) for each sub-folder, in sorted order; FileError when the
    folder has no sub-folders or a sub-folder has no images."""
    root = Path(folder)
    if not stat.S_ISDIR(stat_path(root, "folder").st_mode):
        raise FileError(f"{shown(root)} is not a folder; give a folder with one sub-folder of images per class")
    subs = [p for p in _entries(root) if _is_dir(p)]
    if not subs:
        raise FileError(
            f"{shown(root)} has no sub-folders; put each class's images in a sub-folder named after the "
            f"class (e.g. {shown(root / 'cat' / '1.png')})"
        )
    out = []
    for sub in subs:
        files = image_files(sub)
        if not files:
            raise FileError(f"the class folder {shown(sub)} has no PNG or JPEG images; add some or remove it")
        out.append((sub.name, files))
    return out


def read_image(path: PathLike, size: tuple[int, int], grey: bool = True) -> np.ndarray:
    """One PNG or JPEG as (C, H, W) float64 in [0, 1], resized to size (H, W) (bilinear)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    regular_file(path)
    h, w = size
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with open(path, "rb") as fh, Image.open(fh, formats=FORMATS) as im:
                width, height = im.size
                check_memory(12 * width * height, f"decoding the {width}x{height} image {shown(path)}")
                im2 = ImageOps.exif_transpose(im)
                if im2.mode.startswith("I") or im2.mode == "F":  # 16-bit or float grey: to 0..255 first
                    a = np.asarray(im2, dtype=np.float64)
                    top = 65535.0 if a.max() > 255 else 255.0
                    im2 = Image.fromarray(np.clip(a / top * 255, 0, 255).astype(np.uint8))
                im2 = im2.convert("L" if grey else "RGB").resize((w, h), Image.Resampling.BILINEAR)
                a = np.asarray(im2, dtype=np.float64) / 255.0
    except SymnnError:
        raise
    except UnidentifiedImageError:
        raise FileError(f"{shown(path)} is not a PNG or JPEG image symnn can read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise FileError(
            f"{shown(path)} declares more than {Image.MAX_IMAGE_PIXELS} pixels, Pillow's limit against "
            "decompression bombs; give a smaller image"
        ) from None
    except OSError as exc:
        why = "the data is truncated" if "truncated" in str(exc).lower() else f"{type(exc).__name__}"
        raise FileError(f"cannot read image {shown(path)}: {why}") from None
    except Exception as exc:  # noqa: BLE001 - any failure of a decoder on untrusted data
        raise FileError(f"cannot read image {shown(path)}: the data is damaged ({type(exc).__name__})") from None
    return a[None] if grey else np.ascontiguousarray(a.transpose(2, 0, 1))


def read_image_paths(paths: Sequence[Path], size: tuple[int, int], grey: bool = True) -> np.ndarray:
    """Images as one (N, C, H, W) float64 array; its memory checked before any is decoded."""
    c = 1 if grey else 3
    check_memory(8 * len(paths) * c * size[0] * size[1], f"{plural(len(paths), 'image')} of {c}x{size[0]}x{size[1]}")
    X = np.empty((len(paths), c, *size), dtype=np.float64)
    for i, p in enumerate(paths):
        X[i] = read_image(p, size, grey)
    return X


def read_images(
    folder: PathLike, image_size: tuple[int, int] = DEFAULT_SIZE, grey: bool = True
) -> tuple[np.ndarray, np.ndarray, Preprocessing]:
    """(X (N, C, H, W) float64 in [0, 1], y labels int64, Preprocessing) from a folder with one
    sub-folder of PNG/JPEG images per class; labels follow the sorted sub-folder names (kept as
    Preprocessing.classes); every image is resized to image_size (H, W), grey (C = 1) or RGB."""
    size = check_size(tuple(image_size))
    groups = class_folders(folder)
    names = label_names([name for name, _ in groups], folder, "", "the folder")
    paths = [p for _, files in groups for p in files]
    y = np.array([i for i, (_, files) in enumerate(groups) for _ in files], dtype=np.int64)
    X = read_image_paths(paths, size, grey)
    return X, y, Preprocessing(features=[], classes=names, image_size=size, channels=1 if grey else 3)


def read_labelled_images(folder: PathLike, prep: Preprocessing) -> tuple[np.ndarray, np.ndarray]:
    """A test folder (one sub-folder per class, named as in training) prepared like training."""
    classes = prep.classes or []
    groups = class_folders(folder)
    for name, _ in groups:
        if name not in classes:
            raise FileError(
                f"{shown(Path(folder) / name)}: {name!r} is not one of the training classes ({', '.join(classes)})"
            )
    paths = [p for _, files in groups for p in files]
    y = np.array([classes.index(name) for name, files in groups for _ in files], dtype=np.int64)
    return _read_like(paths, prep), y


def read_unlabelled_images(path: PathLike | Sequence[PathLike], prep: Preprocessing) -> np.ndarray:
    """Image file(s), or a folder of images (and of sub-folders of images), prepared like training."""
    if isinstance(path, (str, os.PathLike)):
        p = Path(path)
        if _is_dir(p):
            paths = image_files(p) + [f for sub in _entries(p) if _is_dir(sub) for f in image_files(sub)]
            if not paths:
                raise FileError(f"the folder {shown(p)} has no PNG or JPEG images")
        else:
            paths = [p]
    else:
        paths = [Path(q) for q in path]
        if not paths:
            raise InputError("no image files given; give at least one PNG or JPEG file")
    return _read_like(paths, prep)


def _read_like(paths: Sequence[Path], prep: Preprocessing) -> np.ndarray:
    if prep.image_size is None:
        raise InputError("the training data were not images; give a table or an .npz instead")
    return prep.apply(read_image_paths(paths, prep.image_size, grey=prep.channels == 1))
