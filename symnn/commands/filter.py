"""`symnn filter [IMAGE] --kernel NAME|FILE|all`: GIMP's convolution-matrix filters on a photo,
computed by symnn's generated kernels; one PNG per filter and, for several, a contact sheet."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from symnn.wording import plural

BORDERS = ("extend", "wrap", "crop", "zero")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "image", nargs="?", metavar="IMAGE", help="a PNG or JPEG (default: matplotlib's bundled photo of Grace Hopper)"
    )
    p.add_argument(
        "--kernel",
        default="all",
        metavar="NAME|FILE|all",
        help="a named kernel (sharpen, blur, edge-enhance, edge-detect, emboss), several "
        "names separated by commas, a kernel file (CSV/whitespace text), an inline "
        'matrix "0 -1 0; -1 5 -1; 0 -1 0", or all (default: all)',
    )
    p.add_argument(
        "--border",
        choices=BORDERS,
        default="extend",
        help="pixels beyond the edge: extend (repeat the edge), wrap, zero, or crop "
        "(keep only whole windows: a smaller image) (default: extend)",
    )
    p.add_argument("--out", default=".", metavar="DIR", help="folder for the PNGs (default: the current folder)")
    p.add_argument("--force", action="store_true", help="replace files symnn did not write (never the input image)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _kernels(spec: str) -> list[tuple[str, object]]:
    from symnn.vision import filters

    if spec == "all":
        return [(name, name) for name in filters.KERNELS]
    parts = [s.strip() for s in spec.split(",")]
    if len(parts) > 1 and not os.path.exists(spec) and any(_name_like(s) for s in parts):
        for s in parts:  # a list of names: each must be known
            if s not in filters.KERNELS:
                from symnn.errors import UnknownNameError
                from symnn.vision.files import brief

                raise UnknownNameError(
                    f"unknown kernel {brief(s, 40)} in --kernel {brief(spec, 60)}; "
                    f"choose names from: {', '.join(filters.KERNELS)} (or all, "
                    "a kernel file, or an inline matrix)"
                )
        return [(s, s) for s in dict.fromkeys(parts)]
    name, matrix = filters.resolve(spec)
    return [(name, name if name in filters.KERNELS and matrix is filters.KERNELS[name] else matrix)]


def _name_like(part: str) -> bool:
    """A word a kernel name could be (letters, digits, - and _), not a number such as 1e3."""
    from symnn.vision.filters import is_number

    return bool(part) and all(c.isalnum() or c in "-_" for c in part) and not is_number(part)


def same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except (OSError, ValueError, RuntimeError):  # a NUL byte, a symlink loop
        return False


def _check_memory(image, kernels: list[tuple[str, object]]) -> None:
    """All the filtered images are kept for the contact sheet: refuse before computing them."""
    from symnn.limits import check_memory
    from symnn.vision import convolve, filters

    biggest = max((filters.resolve(k)[1].shape for _, k in kernels), key=lambda s: s[0] * s[1])
    need = convolve.memory_needed(image.shape, image.dtype, biggest) + len(kernels) * image.nbytes
    h, w = image.shape[:2]
    check_memory(need, f"{len(kernels)} filter(s) of the {w}x{h} image")


def run(args: argparse.Namespace) -> int:
    from symnn.errors import FileError
    from symnn.outputs import check_writable, folder_state
    from symnn.vision import convolve, filters
    from symnn.vision.images import default_image_path, read_image, write_image

    source = Path(args.image) if args.image else default_image_path()
    kernels = _kernels(args.kernel)  # cheap checks before decoding
    image = read_image(source)
    _check_memory(image, kernels)
    out_dir = Path(args.out)
    if folder_state(args.out) == "other":
        raise FileError(f"--out {out_dir} is a file; give a folder")
    stem = source.stem
    targets = [(name, k, out_dir / f"{stem}-{name}.png") for name, k in kernels]
    sheet = out_dir / f"{stem}-filters.png" if len(kernels) > 1 else None
    for path in [t[2] for t in targets] + ([sheet] if sheet else []):
        if same_file(path, source):
            raise FileError(f"{path} is the input image; refusing to overwrite it (choose another --out)")
        check_writable(path, args.force)
    from symnn.progress import progress

    results, written = [], []
    quiet = args.quiet or len(targets) < 2
    with progress(targets, desc="filters", unit="filter", leave=False, enabled=not quiet) as bar:
        for name, k, path in bar:
            bar.set_postfix_str(name)  # the filter being applied (a few, each slow: redraw now)
            out = convolve.apply(image, k, args.border)
            written.append(write_image(path, out, force=args.force))
            results.append((name, k, out))
    if sheet:
        written.append(
            contact_sheet(image, results, sheet, title=f"{source.name}, border {args.border}", force=args.force)
        )
    h, w = image.shape[:2]
    kind = "RGB" if image.ndim == 3 else "grayscale"
    print(f"{source.name}: {w}x{h} {kind} {image.dtype}, border {args.border}; wrote {plural(len(written), 'file')}:")
    for (name, k, out), path in zip(results, written):
        norm = filters.normalisation(filters.resolve(k)[1])
        print(
            f"  {path}  {name} (divisor {filters.number_text(norm.divisor)}, offset {filters.number_text(norm.offset)}"
            f"{', ' + str(out.shape[1]) + 'x' + str(out.shape[0]) if out.shape[:2] != (h, w) else ''})"
        )
    if sheet:
        print(f"  {written[-1]}  contact sheet: the original and {plural(len(results), 'filter')}")
    return 0


SHEET_COLUMNS = 3
PANEL_INCHES = (3.2, 3.6)  # width, height of one labelled panel
SHEET_DPI = 100
SHEET_MAX_SIDE = 1024  # larger images are subsampled for their panel (memory)


def sheet_size(n_panels: int) -> tuple[int, int]:
    """(width, height) in pixels of a contact sheet with n_panels images."""
    cols = min(SHEET_COLUMNS, n_panels)
    rows = -(-n_panels // cols)
    return round(cols * PANEL_INCHES[0] * SHEET_DPI), round(rows * PANEL_INCHES[1] * SHEET_DPI)


def contact_sheet(original, results, path, title: str = "", force: bool = False) -> Path:
    """A PNG figure: the original and every filtered image, labelled with the kernel's name,
    divisor and offset."""
    import numpy as np
    from matplotlib.figure import Figure

    from symnn.outputs import save_figure
    from symnn.vision import convolve, filters

    panels = [("original", None, original)] + list(results)
    cols = min(SHEET_COLUMNS, len(panels))
    rows = -(-len(panels) // cols)
    fig = Figure(figsize=(cols * PANEL_INCHES[0], rows * PANEL_INCHES[1]))
    for k, (name, kernel, img) in enumerate(panels):
        ax = fig.add_subplot(rows, cols, k + 1)
        step = max(1, max(img.shape[:2]) // SHEET_MAX_SIDE)
        img = img[::step, ::step]  # a panel shows ~300 pixels a side
        vmax = convolve.value_range(img.dtype)
        shown = img.astype(float) / vmax if img.dtype.kind in "ui" else img
        if img.ndim == 2:
            ax.imshow(shown, cmap="gray", vmin=0, vmax=1)
        else:
            ax.imshow(np.clip(shown, 0, 1))
        label = name
        if kernel is not None:
            norm = filters.normalisation(filters.resolve(kernel)[1])
            label += f"\ndivisor {filters.number_text(norm.divisor)}, offset {filters.number_text(norm.offset)}"
        ax.set_title(label, fontsize=9)
        ax.set_axis_off()
    if title:
        fig.suptitle(f"symnn filter: {title}", fontsize=10)
    return save_figure(fig, path, force=force, dpi=SHEET_DPI)
