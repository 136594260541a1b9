# %% [markdown]
# A neural network is built from one small part used again and again: the **neuron**. It takes
# some input values, multiplies each by a weight, adds the products up (with a bias), and passes
# that weighted sum through an **activation function**. This lesson derives the neuron's forward
# pass, then looks at the four activation functions of the lecture — threshold, sigmoid,
# rectifier and hyperbolic tangent — and derives the derivative of each, because learning
# (lesson 2 onwards) is nothing but following those derivatives downhill.
#
# Run this file as a script to read it in a terminal; `symnn course build` puts it in the book.

# %%
import numpy as np
import sympy as sp
from matplotlib.figure import Figure

import symnn
from symnn.course import Lesson, lambdify
from symnn.nn.data import load
from symnn.ops.activations import ACTIVATIONS
from symnn.ops.functions import elementary

lesson = Lesson(1, "How do neural networks work?", reading=["nielsen"])
LECTURE_ACTIVATIONS = ("threshold", "sigmoid", "relu", "tanh")  # the four on the slides

# %% [markdown]
# ## The neuron
#
# The inputs $x_1, x_2, x_3$ are the values of one observation (one row of a table, one
# student in the lecture's example); each connection has a weight $w_i$ that says how much its
# input matters. The neuron computes the weighted sum $z$ and applies its activation function
# $\varphi$ to get its output $\hat{y}$. symnn writes this down as a derivation, each line
# checked by SymPy:

# %%
neuron = symnn.derive("neuron")
lesson.derivation(neuron)

# %% [markdown]
# The same neuron with numbers: the first student of the lecture's table (inputs scaled to
# $[0, 1]$ as the lessons' training does), small random weights, and the weighted sum put
# through each of the four activation functions.

# %%
data = load("study")
x_row = data.X_train[0]
rng = np.random.default_rng(1)
w = rng.normal(0.0, 0.5, size=3)
b = float(rng.normal(0.0, 0.5))
symbols = {s.name: s for s in neuron.result.free_symbols}
z_expr = neuron.equations[1].rhs  # z = w_1 x_1 + w_2 x_2 + w_3 x_3 + b
z_args = [symbols[n] for n in ("x_1", "x_2", "x_3", "w_1", "w_2", "w_3", "b")]
z_value = float(lambdify(z_args, z_expr)(*x_row, *w, b))
lesson.markdown(
    f"Inputs $x = ({x_row[0]:.4f}, {x_row[1]:.4f}, {x_row[2]:.4f})$ (Study Hrs, Sleep Hrs and Quiz "
    f"of row 1, each divided by its column's maximum), weights $w = ({w[0]:.4f}, {w[1]:.4f}, "
    f"{w[2]:.4f})$ and bias $b = {b:.4f}$ (drawn with seed 1) give the weighted sum "
    f"$z = {z_value:.4f}$."
)
z = sp.Symbol("z", real=True)


def output_range(phi):
    """The set of values phi takes on the real line, as SymPy computes it."""
    from sympy.calculus.util import function_range

    try:
        return function_range(elementary(phi), z, sp.S.Reals)
    except (NotImplementedError, ValueError):
        return sp.imageset(sp.Lambda(z, elementary(phi)), sp.S.Reals)


rows = []
for name in LECTURE_ACTIVATIONS:
    act = ACTIVATIONS[name]
    yhat = neuron if name == "sigmoid" else symnn.derive("neuron", activation=name)
    value = float(lambdify(z_args, yhat.result)(*x_row, *w, b))
    rows.append([act.title, act.phi, f"{value:.4f}", f"${sp.latex(output_range(act.phi))}$"])
lesson.table(
    ["activation", r"$\varphi(z)$", rf"$\hat{{y}}$ at $z = {z_value:.4f}$", "possible outputs"],
    rows,
    caption="One weighted sum through the lecture's four activation functions.",
)

# %% [markdown]
# ## The four activation functions
#
# - The **threshold** function outputs 0 or 1: the neuron fires or it does not.
# - The **sigmoid** $\sigma(z) = 1/(1 + e^{-z})$ is a smooth threshold, with outputs strictly
#   between 0 and 1 — handy when the output is a probability.
# - The **rectifier** (ReLU) $\max(0, z)$ lets positive sums through and blocks negative ones;
#   it is the usual choice for hidden layers.
# - The **hyperbolic tangent** $\tanh(z)$ looks like the sigmoid but goes from $-1$ to $1$.
#
# The solid lines below are the functions, the dashed lines their derivatives, evaluated from
# the expressions symnn derives next.

# %%
fig = Figure(figsize=(10, 6.4), layout="constrained")
zs = np.linspace(-4, 4, 801)
for n, name in enumerate(LECTURE_ACTIVATIONS):
    act = ACTIVATIONS[name]
    ax = fig.add_subplot(2, 2, n + 1)
    phi = np.broadcast_to(lambdify(z, act.phi)(zs), zs.shape)
    dphi = np.broadcast_to(lambdify(z, act.course_derivative)(zs), zs.shape)
    ax.plot(zs, phi, lw=2, label=r"$\varphi(z)$")
    ax.plot(zs, dphi, "--", lw=1.5, label=r"$\varphi'(z)$")
    if act.course_derivative.has(sp.DiracDelta):
        ax.annotate(r"$\delta(z)$: a spike at 0", xy=(0, 1.05), xytext=(0.6, 0.55), arrowprops={"arrowstyle": "->"})
    ax.set_title(f"{act.title}: ${sp.latex(act.phi).replace('operatorname', 'mathrm')}$")
    ax.axhline(0, color="0.8", lw=0.8)
    ax.axvline(0, color="0.8", lw=0.8)
    ax.set_xlabel("$z$")
    ax.legend(loc="upper left")
lesson.figure(
    fig, "activations", "The four activation functions of the lecture (solid) and their derivatives (dashed)."
)

# %% [markdown]
# ## Their derivatives, step by step
#
# Back-propagation multiplies by $\varphi'(z)$ at every neuron, so each derivative matters.
# symnn derives them from the definitions; SymPy checks every step and compares each result
# with `sympy.diff`.

# %%
for name in LECTURE_ACTIVATIONS:
    act = ACTIVATIONS[name]
    lesson.derivation(symnn.derive("activation", activation=name), title=f"{act.title} and its derivative")

rows = [
    [
        ACTIVATIONS[n].title,
        ACTIVATIONS[n].phi,
        ACTIVATIONS[n].course_derivative,
        ACTIVATIONS[n].course_derivative.subs(z, 0) if n != "threshold" else "no value (a spike)",
    ]
    for n in LECTURE_ACTIVATIONS
]
lesson.table(
    ["activation", r"$\varphi(z)$", r"$\varphi'(z)$", r"$\varphi'(0)$"],
    rows,
    caption="The derivatives symnn derived, and their value at $z = 0$.",
)
sig0 = ACTIVATIONS["sigmoid"].course_derivative.subs(z, 0)
tanh0 = ACTIVATIONS["tanh"].course_derivative.subs(z, 0)
lesson.note(
    f"The sigmoid's slope is at most $\\sigma'(0) = {sp.latex(sig0)}$, while tanh's is "
    f"$\\tanh'(0) = {sp.latex(tanh0)}$: a signal passing back through many sigmoid layers shrinks "
    f"by a factor of at least {1 / sig0} at each, one reason deep networks prefer ReLU in their hidden "
    "layers. The threshold's derivative is 0 everywhere except at 0, so gradient descent gets no "
    "signal through it: that is why the lecture moves on to the sigmoid."
)
