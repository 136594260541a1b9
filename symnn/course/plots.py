"""Figures more than one lesson draws."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from symnn.wording import plural


def learning_curves(accuracy, loss, n_test: int, n_train: int, cost_label: str, integer_epochs: bool = False) -> Figure:
    """Test accuracy (left) and training cost on a log scale (right) after each epoch, the
    final accuracy dotted."""
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
    ax2.set_ylabel(f"{cost_label} (mean over training images)")
    ax2.set_title(f"Cost on the {plural(n_train, 'training image')}")
    if integer_epochs:
        from matplotlib.ticker import MaxNLocator

        for ax in (ax1, ax2):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig
