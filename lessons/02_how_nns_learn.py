# %% [markdown]
# A network learns by comparing what it predicts with what actually happened, measuring the
# difference with a **cost function**, and changing its weights so that the cost goes down.
# The lecture shows this on a perceptron — a single neuron — that predicts a student's exam
# mark from three inputs: hours studied, hours slept and the quiz mark.

# %%
import numpy as np
import sympy as sp

import symnn
from symnn.course import Lesson, lambdify, on_rows
from symnn.nn.data import load, study_table
from symnn.ops.costs import COSTS

lesson = Lesson(2, "How do neural networks learn?", reading=["crossvalidated"])

# %% [markdown]
# ## The lecture's table
#
# One row per student; the exam mark is the value to predict.

# %%
table = study_table(1)
lesson.table(
    ["Row ID", "Study Hrs", "Sleep Hrs", "Quiz", "Exam"],
    [
        [r["row_id"], f"{r['study_hrs']:g}", f"{r['sleep_hrs']:g}", f"{100 * r['quiz']:g}%", f"{100 * r['exam']:g}%"]
        for r in table.rows
    ],
    caption="The lecture's table (as on the slides \"How do Neural Networks learn?\").",
)

data = load("study")  # the same rows, each input column divided by its maximum
col_max = table.X.max(axis=0)
lesson.markdown(
    "The perceptron sees one row at a time: $x_1$ = Study Hrs, $x_2$ = Sleep Hrs, $x_3$ = Quiz, "
    "and its target $y$ is the Exam mark as a fraction. Inputs of very different sizes make "
    "learning slow, so each input column is divided by its largest value "
    f"({col_max[0]:g} hours of study, {col_max[1]:g} hours of sleep, a quiz mark of "
    f"{100 * col_max[2]:g}%): every input then lies between 0 and 1."
)

# %% [markdown]
# ## The perceptron's prediction $\hat{y}$, row by row
#
# The weights start as small random numbers close to 0 (but not 0). Each prediction below is
# the derived neuron expression $\hat{y} = \sigma(w_1 x_1 + w_2 x_2 + w_3 x_3 + b)$ evaluated
# with that row's inputs.

# %%
neuron = symnn.derive("neuron")
s = {v.name: v for v in neuron.result.free_symbols}
X_NAMES, W_NAMES = ("x_1", "x_2", "x_3"), ("w_1", "w_2", "w_3", "b")
predict = lambdify([s[n] for n in X_NAMES + W_NAMES], neuron.result)

SEED, SPREAD = 0, 0.1
rng = np.random.default_rng(SEED)
weights = rng.normal(0.0, SPREAD, size=4)  # w_1, w_2, w_3, b
X, y = data.X_train, data.y_train
yhat = predict(X[:, 0], X[:, 1], X[:, 2], *weights)
row_cost = 0.5 * (yhat - y) ** 2
lesson.markdown(
    f"Starting weights (normal, standard deviation {SPREAD:g}, seed {SEED}): "
    + ", ".join(f"${n} = {v:.4f}$" for n, v in zip(("w_1", "w_2", "w_3", "b"), weights))
    + "."
)
predictions = lesson.table(
    ["Row", "$x_1$", "$x_2$", "$x_3$", r"$\hat{y}$", "$y$", r"$\hat{y} - y$", r"$\frac{1}{2}(\hat{y} - y)^2$"],
    [
        [
            r + 1,
            f"{X[r, 0]:.4f}",
            f"{X[r, 1]:.4f}",
            f"{X[r, 2]:.2f}",
            f"{yhat[r]:.4f}",
            f"{y[r]:.2f}",
            f"{yhat[r] - y[r]:.4f}",
            f"{row_cost[r]:.4f}",
        ]
        for r in range(len(y))
    ],
    caption="Prediction and error of the untrained perceptron on each row.",
)

# %% [markdown]
# ## The cost: one number for the whole table
#
# The lecture measures the error with the quadratic cost $C = \sum \frac{1}{2}(\hat{y} - y)^2$,
# summed over the rows. symnn takes the cost's definition from the derivation below and
# evaluates it on the table.

# %%
cost = symnn.derive("cost")
batch = cost.goals[-1]  # ∂C/∂w_1 over all rows; its definition is C itself
columns = {"x_1": X[:, 0], "x_2": X[:, 1], "x_3": X[:, 2], "y": y}
C_of_weights = on_rows(batch.definition, columns)
w_symbols = [next(v for v in C_of_weights.free_symbols if v.name == n) for n in W_NAMES]
C_value = float(lambdify(w_symbols, C_of_weights)(*weights))
assert np.isclose(C_value, row_cost.sum()), "the cost and the table's last column disagree"
lesson.markdown(
    f"With the starting weights the cost is $C = {C_value:.4f}$: the sum of the last column "
    f"of {predictions}. The largest share comes from row {int(np.argmax(row_cost)) + 1}, whose "
    f"prediction {yhat[np.argmax(row_cost)]:.4f} is furthest from its target "
    f"{y[np.argmax(row_cost)]:.2f}."
)

# %% [markdown]
# ## Adjust $w_1$, $w_2$, $w_3$
#
# To make the cost smaller we need to know how it changes when each weight changes: the
# partial derivatives $\partial C / \partial w_i$. symnn derives them with the chain rule,
# for one row and then for the whole table:

# %%
lesson.derivation(cost)

# %% [markdown]
# Evaluated at the starting weights, summed over all the rows, the gradient says which way
# to move each weight. One step of size $\eta$ against the gradient lowers the cost:

# %%
grads = []
for goal in cost.goals[:4]:
    per_row = lambdify([s[n] for n in X_NAMES] + [sp.Symbol("y", real=True)] + [s[n] for n in W_NAMES], goal.result)
    grads.append(float(np.sum(per_row(X[:, 0], X[:, 1], X[:, 2], y, *weights))))
grads = np.array(grads)
ETA = 1.0
new_weights = weights - ETA * grads
C_new = float(lambdify(w_symbols, C_of_weights)(*new_weights))
assert C_new < C_value, "one gradient step should lower the cost"
names_tex = ["$w_1$", "$w_2$", "$w_3$", "$b$"]
lesson.table(
    ["weight", "now", r"$\partial C / \partial w$ (all rows)", "move", rf"after one step, $\eta = {ETA:g}$"],
    [
        [
            names_tex[i],
            f"{weights[i]:.4f}",
            f"{grads[i]:.4f}",
            "up" if grads[i] < 0 else "down",
            f"{new_weights[i]:.4f}",
        ]
        for i in range(4)
    ],
    caption="The gradient of the cost at the starting weights, and one step of gradient descent.",
)
too_low = int(np.sum(yhat < y))
why = (
    f"The untrained perceptron predicts too little on {too_low} of the {len(y)} rows, so the "
    "cost falls when $\\hat{y}$ rises: "
    + ("every" if np.all(grads < 0) else "most")
    + " gradient is negative and the step raises "
    + ("every weight." if np.all(grads < 0) else "the weights whose gradient is negative.")
)
lesson.markdown(
    f"The cost falls from {C_value:.4f} to {C_new:.4f}. {why} Repeating such steps is gradient descent: lesson 3."
)

# %% [markdown]
# ## Other cost functions
#
# The quadratic cost is only one choice. The lecture's additional reading (CrossValidated,
# 2015) lists others, each with its gradient with respect to the output $a$ (for the
# target $E$). symnn derives every gradient in the list and checks it against the list's
# form:

# %%
cost_functions = symnn.derive("cost-functions")
rows = []
for goal in cost_functions.goals:
    key = goal.name[goal.name.index("(") + 1 : -1]
    rows.append([COSTS[key].title, goal.definition, COSTS[key].course_gradient])
lesson.table(
    ["cost", "$C$", r"$\partial C / \partial a_k$"],
    rows,
    caption="Cost functions and their gradients, derived by symnn (CrossValidated, 2015).",
)
lesson.derivation(cost_functions)

# %%
# Exercises for the chapter's end; `symnn check --exercise ID FILE` grades an answer.
SETUP = """given z = w_1*x_1 + w_2*x_2 + w_3*x_3 + b
given yhat = sigmoid(z)
given C = (yhat - y)^2/2"""
lesson.exercise("Derive the gradient of one row's quadratic cost with respect to the bias $b$.", "dC/db", SETUP)
lesson.exercise("Derive the gradient with respect to the second weight $w_2$ (hours of sleep).", "dC/dw_2", SETUP)
