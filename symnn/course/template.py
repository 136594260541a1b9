"""`symnn course new DIR`: a one-lesson course of an author's own, which builds as it is.

The lesson shows each kind of block once (prose, a derivation, display math, a table, a figure,
a note and an exercise), so an author sees how each is written and what it becomes.
"""

from __future__ import annotations

import os
from pathlib import Path

from symnn.errors import FileError

LESSON = '''\
# %% [markdown]
# Every lesson is a Python file named NN_name.py in Jupytext's percent format: `# %% [markdown]`
# cells are the prose, `# %%` cells the code. Run it as a script (`python 01_first_lesson.py`),
# open it as a notebook (jupytext), or build the course: `symnn course build --lessons-dir DIR`.

# %%
import numpy as np
import sympy as sp
from matplotlib.figure import Figure

import symnn
from symnn.course import Lesson

lesson = Lesson(1, "My first lesson", reading=["nielsen"])

# %% [markdown]
# ## The derivative of a cost
#
# symnn derives, step by step, and SymPy checks every step.

# %%
w, x, y = sp.symbols("w x y")
cost = (sp.tanh(w * x) - y) ** 2 / 2
lesson.derivation(symnn.derive(cost, wrt=w), title="The gradient of a one-weight tanh neuron")
lesson.math(sp.Eq(sp.Symbol("C"), cost))

# %% [markdown]
# ## Numbers, computed
#
# Tables and figures take numbers the lesson computes; they are never typed in.

# %%
ws = np.linspace(-2.0, 2.0, 5)
values = [float(cost.subs({w: v, x: 1, y: 0.5})) for v in ws]
rows = [[f"{v:.1f}", f"{c:.4f}"] for v, c in zip(ws, values)]
table = lesson.table(["$w$", "$C$"], rows, caption="The cost at x = 1, y = 0.5")
lesson.markdown(f"{table} lists the cost at five weights.")

fig = Figure(figsize=(4, 2.6))
ax = fig.add_subplot()
grid = np.linspace(-2.0, 2.0, 101)
ax.plot(grid, [float(cost.subs({w: v, x: 1, y: 0.5})) for v in grid])
ax.set_xlabel("w")
ax.set_ylabel("C")
figure = lesson.figure(fig, "cost", caption="The cost against the weight")
lesson.note(f"{figure}: the cost is smallest where tanh(w) = y.")

# %%
lesson.exercise(
    "Find the derivative of the cost with respect to the weight.",
    goal="dC/dw",
    givens="given C = (tanh(w*x) - y)^2 / 2",
)
'''


def new_course(folder: str | os.PathLike) -> list[Path]:
    """Write DIR/01_first_lesson.py; refuse a folder that already holds files (nothing is replaced)."""
    from symnn.outputs import atomic_write, folder_state

    path = Path(folder)
    state = folder_state(os.fspath(folder), "DIR")
    if state == "other":
        raise FileError(f"{path} is a file, not a folder; give a new or empty folder for the course")
    if path.is_dir() and any(path.iterdir()):
        raise FileError(f"{path} is not empty; give a new or empty folder (symnn course new never replaces files)")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileError(f"cannot create the folder {path}: {exc.strerror or exc}") from None
    return [atomic_write(path / "01_first_lesson.py", LESSON)]
