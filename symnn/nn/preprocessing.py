"""What was done to a training set's inputs, kept so new inputs are prepared the same way.

A Preprocessing names the table's feature and target columns (or the images' size and channels),
the class names in label order, and the standardisation (mean, std) or scaling (max |x|) fitted
on the training split. to_dict() is JSON-safe; from_dict() checks every field of a dict read from
a file (a model file, say) and refuses a bad one with one FileError line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from symnn.errors import FileError, InputError
from symnn.wording import plural


@dataclass
class Preprocessing:
    """How inputs were prepared for training, to prepare new inputs the same way.

    features: the CSV columns used, in order (x1..xF for .npz rows; empty for images);
    target: the target column; classes: class names in label order (label i is classes[i]);
    mean / std: the standardisation fitted on the training split (per column, or per channel
    for images); scale: each column divided by its largest |value| over the training split
    instead; image_size (H, W) and channels (1 grey, 3 RGB) for images.
    """

    features: list[str]
    target: str | None = None
    classes: list[str] | None = None
    mean: list[float] | None = None
    std: list[float] | None = None
    image_size: tuple[int, int] | None = None
    channels: int | None = None
    scale: list[float] | None = field(default=None)

    def to_dict(self) -> dict:
        """A JSON-safe dict (lists, strings, numbers, None); from_dict reads it back."""
        return {
            "features": list(self.features),
            "target": self.target,
            "classes": None if self.classes is None else list(self.classes),
            "mean": _floats(self.mean),
            "std": _floats(self.std),
            "image_size": None if self.image_size is None else [int(v) for v in self.image_size],
            "channels": self.channels,
            "scale": _floats(self.scale),
        }

    @classmethod
    def from_dict(cls, d: object, source: str = "preprocessing") -> Preprocessing:
        """Read to_dict()'s form back, checking every field; FileError naming the bad field."""
        return cls(**_checked(d, source))

    def fit(self, X: np.ndarray, standardize: bool = False, scale: bool = False) -> Preprocessing:
        """A copy fitted on training inputs X: mean/std (standardize) or max |x| (scale), per
        column of (N, F) rows or per channel of (N, C, H, W) images; a constant column keeps
        std (or scale) 1."""
        X = np.asarray(X, dtype=np.float64)
        axes = (0,) if X.ndim == 2 else (0, *range(2, X.ndim))
        if standardize:
            std = X.std(axis=axes)
            return replace(self, mean=_floats(X.mean(axis=axes)), std=_floats(np.where(std > 0, std, 1.0)), scale=None)
        if scale:
            top = np.abs(X).max(axis=axes)
            return replace(self, mean=None, std=None, scale=_floats(np.where(top > 0, top, 1.0)))
        return replace(self, mean=None, std=None, scale=None)

    def apply(self, X: np.ndarray) -> np.ndarray:
        """X standardised (or scaled) with the stored values; a new float64 array."""
        X = np.array(X, dtype=np.float64)
        self.check_shape(X)
        shape = (1, -1) if X.ndim == 2 else (1, -1) + (1,) * (X.ndim - 2)
        if self.mean is not None and self.std is not None:
            X = (X - np.reshape(self.mean, shape)) / np.reshape(self.std, shape)
        elif self.scale is not None:
            X = X / np.reshape(self.scale, shape)
        return X

    def check_shape(self, X: np.ndarray, what: str = "X") -> None:
        """InputError when X is not shaped like the training inputs."""
        if self.image_size is not None:
            want: tuple[int, ...] = (self.channels or 1, *self.image_size)
            if X.ndim != 4 or X.shape[1:] != want:
                raise InputError(
                    f"{what} is shaped {X.shape}; the training images were (N, {', '.join(map(str, want))})"
                )
        elif X.ndim != 2 or X.shape[1] != len(self.features):
            raise InputError(
                f"{what} is shaped {X.shape}; the training rows had {plural(len(self.features), 'feature')}"
            )

    @property
    def kind(self) -> str:
        """'images' or 'rows'."""
        return "images" if self.image_size is not None else "rows"


def _floats(values: object) -> list[float] | None:
    return None if values is None else [float(v) for v in np.asarray(values, dtype=np.float64).ravel()]


_FIELDS = ("features", "target", "classes", "mean", "std", "image_size", "channels", "scale")


def _checked(d: object, source: str) -> dict:
    """from_dict's checks: the fields of Preprocessing, each of its type, consistent together."""

    def bad(what: str) -> FileError:
        return FileError(f"{source}: {what}")

    if not isinstance(d, dict):
        raise bad(f"the preprocessing must be a JSON object, not {type(d).__name__}")
    unknown = sorted(str(k) for k in d if k not in _FIELDS)
    if unknown:
        raise bad(f"unknown preprocessing field {unknown[0]!r}; the fields are: {', '.join(_FIELDS)}")
    if "features" not in d:
        raise bad("the preprocessing has no field 'features'")
    out: dict[str, Any] = {k: d.get(k) for k in _FIELDS}
    out["features"] = _names(out["features"], "features", bad, allow_empty=True)
    if out["target"] is not None and not isinstance(out["target"], str):
        raise bad("the field 'target' must be a column name (text) or null")
    if out["classes"] is not None:
        out["classes"] = _names(out["classes"], "classes", bad, allow_empty=False)
        if len(out["classes"]) < 2:
            raise bad("the field 'classes' must list at least two class names")
    size, channels = out["image_size"], out["channels"]
    if (size is None) != (channels is None):
        raise bad("the fields 'image_size' and 'channels' go together: give both or neither")
    if size is not None:
        if not isinstance(size, (list, tuple)) or len(size) != 2 or not all(_count(v) for v in size):
            raise bad("the field 'image_size' must be [height, width], two positive integers")
        out["image_size"] = (int(size[0]), int(size[1]))
        if not _count(channels):
            raise bad("the field 'channels' must be a positive integer (1 for grey, 3 for RGB)")
        if out["features"]:
            raise bad("images have no feature columns: 'features' must be empty when 'image_size' is given")
    elif not out["features"]:
        raise bad("the field 'features' must name at least one column (or give 'image_size' for images)")
    n: int = channels if size is not None else len(out["features"] or [])
    for key in ("mean", "std", "scale"):
        if out[key] is not None:
            out[key] = _numbers(out[key], key, n, bad, positive=key != "mean")
    if (out["mean"] is None) != (out["std"] is None):
        raise bad("the fields 'mean' and 'std' go together: give both or neither")
    if out["mean"] is not None and out["scale"] is not None:
        raise bad("give either 'mean' and 'std' (standardisation) or 'scale', not both")
    return out


def _count(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


def _names(v: object, key: str, bad, allow_empty: bool) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(s, str) and s for s in v):
        raise bad(f"the field {key!r} must be a list of names (non-empty text)")
    if len(set(v)) != len(v):
        raise bad(f"the field {key!r} names the same thing twice")
    if not v and not allow_empty:
        raise bad(f"the field {key!r} is empty")
    return list(v)


def _numbers(v: object, key: str, n: int, bad, positive: bool) -> list[float]:
    if not isinstance(v, list):
        v = None
    ok = v is not None and all(
        isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and (x > 0 or not positive)
        for x in v
    )
    if not ok:
        kind = "positive finite numbers" if positive else "finite numbers"
        raise bad(f"the field {key!r} must be a list of {kind}")
    assert v is not None
    if len(v) != n:
        raise bad(f"the field {key!r} has {plural(len(v), 'value')}; the data has {n} features or channels")
    return [float(x) for x in v]
