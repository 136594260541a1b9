"""Figures more than one lesson draws, and how every lesson figure is made ready for print."""

from __future__ import annotations

import re

import numpy as np
from matplotlib.figure import Figure

from symnn.wording import plural

TEXT_WIDTH_IN = 489.1 / 72.27  # the book's \linewidth (letter paper, 2.2 cm margins): 6.77 in
CAPTION_PT = 10.95  # the book's captions are set at its body size (11 pt class: 10.95 pt)
DPI = 240  # a figure is saved at the size it prints at, so this is its resolution on paper


def fit_for_print(fig: Figure, width: float, min_pt: float = CAPTION_PT) -> float:
    """Make fig the size it prints at in the book (`width` of the text width, its proportions
    kept) with no text smaller than the caption: every title, label, tick label, legend and
    annotation under min_pt points is set at min_pt, a title wider than its axes is broken onto
    lines, and a figure without a layout engine gets matplotlib's constrained layout. Saved at
    DPI, it is then DPI dots per inch on paper, its text as large as the caption below it.

    Labels written inside an axes (the numbers in a grid's cells) that would then run into each
    other are set smaller instead, just enough to stay apart. Returns the size of the smallest
    text in the figure, in points (below min_pt only in that case)."""
    from matplotlib.text import Text

    w, h = fig.get_size_inches()
    if w > 0:
        fig.set_size_inches(width * TEXT_WIDTH_IN, h * width * TEXT_WIDTH_IN / w, forward=False)
    if fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            ticks = axis.get_major_ticks()[:1] + axis.get_minor_ticks()[:1]
            if any(float(t.label1.get_fontsize()) < min_pt for t in ticks):
                axis.set_tick_params(which="both", labelsize=min_pt)
    fig.draw_without_rendering()  # lay out once, so every tick label, legend and offset text exists
    for text in fig.findobj(Text):
        if text.get_text().strip() and float(text.get_fontsize()) < min_pt:
            text.set_fontsize(min_pt)
    _wrap_titles(fig)
    _keep_apart(fig)
    sizes = [float(t.get_fontsize()) for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return min(sizes, default=min_pt)


def _keep_apart(fig: Figure, floor: float = 5.0) -> None:
    """The labels inside each axes (ax.text in data coordinates) that overlap are made smaller,
    all of one axes' together, until none overlaps another (or they reach `floor` points)."""
    renderer = fig._get_renderer()  # type: ignore[attr-defined]  # matplotlib's, for any canvas
    for ax in fig.axes:
        labels = [t for t in ax.texts if t.get_transform() == ax.transData and t.get_text().strip()]
        while labels and float(labels[0].get_fontsize()) > floor:
            boxes = [t.get_window_extent(renderer) for t in labels]
            if not any(a.overlaps(b) for n, a in enumerate(boxes) for b in boxes[n + 1 :]):
                break
            size = max(floor, float(labels[0].get_fontsize()) - 0.5)
            for t in labels:
                t.set_fontsize(min(float(t.get_fontsize()), size))


def _wrap_titles(fig: Figure) -> None:
    """A title or an axis label longer than its axes (the text larger now than the figure was
    drawn for) is broken at its spaces, onto as many lines as it needs (at most three)."""
    fig.draw_without_rendering()
    renderer = fig._get_renderer()  # type: ignore[attr-defined]  # matplotlib's, for any canvas
    for ax in fig.axes:
        box = ax.get_window_extent(renderer)
        titles = [ax.title, *(getattr(ax, f"_{side}_title", None) for side in ("left", "right"))]  # matplotlib's three
        texts = [(t, box.width) for t in [*titles, ax.xaxis.label] if t is not None]
        texts.append((ax.yaxis.label, box.height))
        for text, room in texts:
            words = re.findall(r"(?:\$[^$]*\$|[^\s$])+", text.get_text())  # never inside $math$
            extent = text.get_window_extent(renderer)
            if len(words) < 2 or max(extent.width, extent.height) <= room * 1.05:
                continue
            for lines in (2, 3):
                text.set_text(_balanced(words, lines))
                extent = text.get_window_extent(renderer)
                if max(extent.width, extent.height) <= room * 1.05:
                    break


def _balanced(words: list[str], lines: int) -> str:
    """words on `lines` lines of about equal length."""
    total = sum(map(len, words)) + len(words) - 1
    out: list[str] = []
    line: list[str] = []
    for w in words:
        if line and len(" ".join(line)) >= total / lines and len(out) < lines - 1:
            out.append(" ".join(line))
            line = []
        line.append(w)
    return "\n".join([*out, " ".join(line)])


def learning_curves(accuracy, loss, n_test: int, n_train: int, cost_label: str, integer_epochs: bool = False) -> Figure:
    """Test accuracy after each epoch (left, the final one dotted) and the running training cost
    of each epoch on a log scale (right: fit's history["loss"])."""
    accuracy, loss = np.asarray(accuracy), np.asarray(loss)
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    epochs = np.arange(1, len(accuracy) + 1)
    ax1.plot(epochs, accuracy, "o-", color="tab:green", ms=3)
    ax1.axhline(accuracy[-1], color="0.6", ls=":", lw=1)
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("test accuracy")
    ax1.set_title(f"Accuracy on the {plural(n_test, 'test image')}")
    ax2.plot(epochs, loss, "o-", color="tab:red", ms=3)
    ax2.set_yscale("log")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel(f"{cost_label} (mean over the epoch's batches)")
    ax2.set_title(f"Cost on the {plural(n_train, 'training image')}")
    if integer_epochs:
        from matplotlib.ticker import MaxNLocator

        for ax in (ax1, ax2):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig
