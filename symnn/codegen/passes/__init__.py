"""The loop passes: rewrites of one output's loop nest, tried in the order of PASSES.

The loop writer (symnn.codegen.loops) tries each pass on the output: a pass whose plan is not
None emits its loops; a final pass (scatter-window, scatter, window, jam) writes the output, a
preparing one (blas, hoist) leaves the printer where the next passes go on. When no final pass
applies, the writer opens the loops as written. Every rewrite but `fold`, `blas` and `unfold`
keeps each element's additions as written (same terms, same order, bit for bit); those three
hand a product to BLAS above a size (fold and unfold only in a spec with `unfold=True`), and
leave a spec with `exact=True` to the others.

    fold             a scatter form's window sum -> np.dot + col2im above UNFOLD_MIN (unfold.py)
    scatter-window   a scatter form's fixed window unrolled, its coefficients read once (window.py)
    scatter          a scatter form's loops: clear, then add every term where it belongs (scatter.py)
    blas             a whole-axis matrix product -> np.dot above BLAS_MIN, the loops below (blas.py)
    unfold           a window sum Σ A·X[.., s·i + m, ..] -> im2col + np.dot above UNFOLD_MIN (unfold.py)
    hoist            Sums that read no output loop variable written before the loops (hoist.py)
    window           channels outside the pixels, a fixed window's coefficients read once (window.py)
    jam              fixed-size inner output loops jammed into one pass of the Sum (jam.py)
"""

from __future__ import annotations

from symnn.codegen.passes.base import JAM_LIMIT, Pass, Site
from symnn.codegen.passes.blas import BLAS, BLAS_MIN
from symnn.codegen.passes.hoist import HOIST
from symnn.codegen.passes.jam import JAM
from symnn.codegen.passes.scatter import SCATTER
from symnn.codegen.passes.unfold import FOLD, UNFOLD, UNFOLD_DEPTH, UNFOLD_MIN
from symnn.codegen.passes.window import SCATTER_WINDOW, WINDOW

PASSES: tuple[Pass, ...] = (FOLD, SCATTER_WINDOW, SCATTER, BLAS, UNFOLD, HOIST, WINDOW, JAM)

__all__ = ["BLAS_MIN", "JAM_LIMIT", "PASSES", "UNFOLD_DEPTH", "UNFOLD_MIN", "Pass", "Site", "names"]


def names() -> list[str]:
    """The passes' names, in the order they are tried."""
    return [p.name for p in PASSES]
