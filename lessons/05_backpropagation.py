# %% [markdown]
# Gradient descent needs $\partial C / \partial w$ for every weight and $\partial C / \partial b$
# for every bias of the network. Working each one out separately would repeat the same
# chain-rule products over and over. **Back-propagation** organises the work: it computes the
# error $\delta$ of every neuron, starting at the output layer and moving backwards one layer
# at a time, and reads every gradient off those errors. Everything rests on four equations,
# BP1 to BP4 in Nielsen's book, which symnn derives here in index notation — the same steps
# hold between any two layers — and checks on a whole small network against `sympy.diff`.

# %%
import numpy as np

import symnn
from symnn.course import Lesson, lambdify
from symnn.render.latex import tex

lesson = Lesson(5, "Backpropagation", reading=["nielsen"])

# %% [markdown]
# ## The four equations
#
# In matrix form ($\odot$ multiplies vectors element by element):

# %%
bp = symnn.derive("backprop")  # about 40 s: every step, and a whole net, checked by SymPy
matrix_form = [s for s in bp.steps if s.rule.endswith("(matrix form)")]
meaning = dict(s.note.split(": ", 1) for s in bp.steps if s.is_heading and s.note.startswith("BP"))
lesson.table(
    ["", "equation", "what it gives"],
    [
        [
            s.rule.removesuffix(" (matrix form)"),
            f"${tex(s.lhs)} = {tex(s.rhs)}$",
            meaning[s.rule.removesuffix(" (matrix form)")],
        ]
        for s in matrix_form
    ],
    caption="The four equations of back-propagation, as derived below.",
)
lesson.markdown(
    "BP1 gives the error of the output layer from the cost; BP2 passes it back through the "
    "transposed weights, one layer at a time; BP3 and BP4 turn the errors into the gradients of "
    "the biases and weights. One forward pass and one backward pass give every gradient."
)

# %% [markdown]
# ## The derivation
#
# Each line below is justified by a rule (definition, chain rule, sum rule, Kronecker-delta
# collapse, ...) and checked by SymPy; the last section compares the result of BP1–BP4 with
# `sympy.diff` of the cost for every weight and bias of a small network.

# %%
lesson.derivation(bp)

# %% [markdown]
# ## Back-propagation with numbers
#
# The check above works with symbols. With numbers: the small network of the check, random
# weights, and one observation (its inputs and targets). Each gradient that back-propagation gives (the derived
# expressions, evaluated) is compared with a finite difference of the cost, the slow way
# gradients were estimated before back-propagation.

# %%
goals = bp.goals
cost_expr = goals[0].definition
params = [g.var for g in goals]
others = sorted(cost_expr.free_symbols - set(params), key=lambda v: v.name)  # inputs and targets
SEED, H = 0, 1e-6
rng = np.random.default_rng(SEED)
values = dict(zip(params, rng.normal(0.0, 1.0, size=len(params))))
values.update(zip(others, rng.uniform(0.0, 1.0, size=len(others))))
args = params + others
cost = lambdify(args, cost_expr)
point = [values[a] for a in args]
rows, worst = [], 0.0
for g in goals:
    by_backprop = float(lambdify(args, g.result)(*point))
    i = args.index(g.var)
    up, down = list(point), list(point)
    up[i] += H
    down[i] -= H
    by_difference = (cost(*up) - cost(*down)) / (2 * H)
    worst = max(worst, abs(by_backprop - by_difference))
    rows.append([f"${tex(g.var)}$", f"{values[g.var]:.4f}", f"{by_backprop:.6f}", f"{by_difference:.6f}"])
given = ", ".join(f"${tex(v)} = {values[v]:.3f}$" for v in others)
lesson.markdown(
    f"Inputs and targets (uniform in [0, 1], seed {SEED}): {given}. The cost there is $C = {cost(*point):.6f}$."
)
lesson.table(
    ["parameter", "value", "back-propagation", "finite difference"],
    rows,
    caption=f"Every gradient of the small network: the derived expressions against "
    f"central differences with step ${H:g}$.",
)
assert worst < 1e-6, "back-propagation and finite differences disagree"
lesson.markdown(
    f"The two columns agree to {worst:.1e} or better (the finite differences carry rounding "
    f"errors of that size). Back-propagation needs one backward pass for all {len(goals)} "
    f"gradients; the finite differences needed {2 * len(goals)} evaluations of the cost — "
    "and a real network has millions of weights."
)

# %%
# Exercises for the chapter's end; `symnn check --exercise ID FILE` grades an answer.
SETUP = """given z1 = w1*x + b1
given a1 = sigmoid(z1)
given z2 = w2*a1 + b2
given yhat = sigmoid(z2)
given C = (yhat - y)^2/2"""
lesson.exercise("Derive the output error $\\partial C/\\partial z_2$ (BP1) of a 1-1-1 network.", "dC/dz2", SETUP)
lesson.exercise("Derive the gradient of the first layer's weight $w_1$ (BP2 and BP4 together).", "dC/dw1", SETUP)
