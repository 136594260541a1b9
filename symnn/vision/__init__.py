"""The vision stage: images, GIMP's convolution-matrix filters and the lecture's feature maps.

    images        reading and writing images (Pillow), the default photo, channel order
    matrices      small matrices (images, kernels) from inline text, a file or an array
    files         opening untrusted files; paths and user text in error messages
    filters       GIMP's kernels (KERNELS), their normalisation, and the generated filter kernels
    filter_specs  the filters' SymPy sums -> KernelSpecs (interior and border ring)
    convolve      apply(image, kernel, border): a filter on an image
    feature_maps  the lecture's Step 1: feature_map(), the lecture's image and detector
    step_tables   steps(): the cell-by-cell step tables of a feature map (StepTable, Cell)
    step_render   step tables and summaries as text, LaTeX and Markdown

Importing this package is light: a name below imports its module (and NumPy, SymPy or
Pillow with it) on first access.
"""

from __future__ import annotations

from typing import Any

# name -> module that defines it
_LAZY = {
    "read_image": "images",
    "write_image": "images",
    "encode_image": "images",
    "default_image": "images",
    "default_image_path": "images",
    "to_channels_first": "images",
    "to_channels_last": "images",
    "read_matrix": "matrices",
    "KERNELS": "filters",
    "DESCRIPTIONS": "filters",
    "normalisation": "filters",
    "add_kernel": "filters",
    "resolve": "filters",
    "apply": "convolve",
    "apply_all": "convolve",
    "feature_map": "feature_maps",
    "LECTURE_IMAGE": "feature_maps",
    "LECTURE_DETECTOR": "feature_maps",
    "SLIDE_MAP": "feature_maps",
    "steps": "step_tables",
    "StepTable": "step_tables",
    "Cell": "step_tables",
}

__all__ = list(_LAZY)

# the modules that register kernels (filter.*, feature_map.lecture), for symnn.codegen.registry
MODULES = ("symnn.vision.filters", "symnn.vision.feature_maps")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f"symnn.vision.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'symnn.vision' has no attribute {name!r}")
