# %% [markdown]
# The output neurons of a classifier give numbers $z$ — in the lecture's example one for "dog"
# and one for "cat" — that can be any size and need not add up to anything. The **softmax**
# function turns them into probabilities: $\hat{y}_j = e^{z_j} / \sum_k e^{z_k}$ is positive,
# and the $\hat{y}_j$ add up to 1. To train the network, the probabilities are compared with
# the right answer $y$ (1 for the right class, 0 for the others) by the **cross-entropy**
# $L = -\sum_j y_j \ln \hat{y}_j$, which is $-\ln$ of the probability given to the right class.
# Together they have a remarkably simple derivative: $\partial L / \partial z_j = \hat{y}_j - y_j$.

# %%
import dataclasses

import numpy as np
import sympy as sp
from matplotlib.figure import Figure

import symnn
from symnn.course import Lesson, lambdify, sci
from symnn.nn import SoftmaxCrossEntropy

lesson = Lesson(14, "Extra - Softmax and cross-entropy", reading=["nielsen"])

# %% [markdown]
# ## The derivation
#
# The softmax ties every output to every $z$ (they share the denominator), so its derivative is
# a whole matrix, the Jacobian. The cross-entropy's derivative has $\hat{y}$ in the denominator.
# Multiplied together by the chain rule, almost everything cancels:

# %%
derivation = symnn.derive("softmax-cross-entropy")
# its references write "§" for "section", which pdflatex's text map lacks: spell it out
lesson.derivation(
    dataclasses.replace(derivation, references=[r.replace("§", "section ") for r in derivation.references])
)

# %% [markdown]
# ## With numbers
#
# Two output neurons, "dog" and "cat", and a picture of a dog. symnn's softmax and
# cross-entropy layer computes the probabilities, the loss and its gradient with the generated
# kernels `softmax.forward`, `log_softmax.forward` and `softmax_cross_entropy.loss` (the loss from
# the log-probabilities), and `softmax_cross_entropy.grad`:

# %%
CLASSES = ("dog", "cat")
z = np.array([[2.0, 0.5]])  # the two output neurons' values for one picture
y = np.array([[1.0, 0.0]])  # it is a dog
layer = SoftmaxCrossEntropy()
p = layer.probabilities(z)
L = layer.value(z, y)
g = layer.gradient(z, y)  # the batch holds one picture, so no division
EPS = 1e-6
numeric = np.array(
    [(layer.value(z + EPS * e, y) - layer.value(z - EPS * e, y)) / (2 * EPS) for e in np.eye(len(CLASSES))]
)
assert np.allclose(g[0], p[0] - y[0]) and np.allclose(g[0], numeric, atol=1e-8)
lesson.table(
    [
        "",
        "$z$",
        r"$e^{z}$",
        r"$\hat{y} = e^{z} / \sum e^{z}$",
        "$y$",
        r"$\partial L / \partial z = \hat{y} - y$",
        "finite difference",
    ],
    [
        [
            name,
            f"{z[0, j]:g}",
            f"{np.exp(z[0, j]):.4f}",
            f"{p[0, j]:.4f}",
            f"{y[0, j]:g}",
            f"{g[0, j]:.4f}",
            f"{numeric[j]:.4f}",
        ]
        for j, name in enumerate(CLASSES)
    ],
    caption="Softmax, cross-entropy and its gradient for one picture of a dog.",
)
lesson.markdown(
    f"The softmax gives the dog a probability of {p[0, 0]:.4f} and the cat {p[0, 1]:.4f}; they add "
    f"up to {p[0].sum():g}. The loss is $L = -\\ln {p[0, 0]:.4f} = {L:.4f}$. The gradient is the "
    f"prediction minus the target, ${p[0, 0]:.4f} - 1 = {g[0, 0]:.4f}$ for the dog and "
    f"${p[0, 1]:.4f} - 0 = {g[0, 1]:.4f}$ for the cat: gradient descent raises $z_{{\\text{{dog}}}}$ and "
    "lowers $z_{\\text{cat}}$. The finite differences of the loss agree."
)

# %% [markdown]
# ## Large outputs: why the kernel subtracts the largest $z$
#
# The derivation's last section rewrites the softmax with the largest output $M$ subtracted
# first. On paper it changes nothing; in floating point it is the difference between a number
# and an overflow.

# %%
BIG = np.array([[1000.0, 998.0]])
p_big, L_big = layer.probabilities(BIG), layer.value(BIG, y)
digits10 = sp.log(sp.exp(sp.Integer(int(BIG[0, 0]))), 10).evalf(6)
largest = sci(float(np.finfo(np.float64).max))
lesson.markdown(
    f"With $z = ({BIG[0, 0]:g}, {BIG[0, 1]:g})$, $e^{{{BIG[0, 0]:g}}}$ is about "
    f"$10^{{{float(digits10):.2f}}}$, far beyond the largest number a computer's double can hold, "
    f"${largest.latex}$: computed directly, the softmax would be $\\infty / \\infty$, not a number. "
    f"With $M = {BIG.max():g}$ subtracted, the exponents are ${BIG[0, 0] - BIG.max():g}$ and "
    f"${BIG[0, 1] - BIG.max():g}$, and symnn's kernels give $\\hat{{y}} = ({p_big[0, 0]:.4f}, "
    f"{p_big[0, 1]:.4f})$ and $L = {L_big:.4f}$ — the same as for $z = ({BIG[0, 0] - BIG.max():g}, "
    f"{BIG[0, 1] - BIG.max():g})$, since only the differences between the outputs matter."
)

# %% [markdown]
# ## Why cross-entropy, and not the quadratic cost?
#
# The quadratic cost of lessons 2 to 6 could score the probabilities too:
# $C = \frac{1}{2}\sum_j (\hat{y}_j - y_j)^2$. With two classes, and the first one right, symnn
# derives the slope of each cost with respect to $z_1$:

# %%
SOFTMAX_1 = "exp(z_1)/(exp(z_1) + exp(z_2))"
SOFTMAX_2 = "exp(z_2)/(exp(z_1) + exp(z_2))"
ce = symnn.derive("expression", expr=f"-log({SOFTMAX_1})", wrt="z_1")
quad = symnn.derive("expression", expr=f"(({SOFTMAX_1} - 1)**2 + ({SOFTMAX_2})**2)/2", wrt="z_1")
lesson.code(f"""softmax_1 = "{SOFTMAX_1}"
softmax_2 = "{SOFTMAX_2}"
quadratic = f"(({{softmax_1}} - 1)**2 + ({{softmax_2}})**2)/2"
symnn.derive("expression", expr=f"-log({{softmax_1}})", wrt="z_1")
symnn.derive("expression", expr=quadratic, wrt="z_1")""")
z1, z2 = sp.symbols("z_1 z_2", real=True)
sym = {v.name: v for v in ce.result.free_symbols | quad.result.free_symbols}
y1, y2 = sp.symbols(r"\hat{y}_1 \hat{y}_2", positive=True)


def in_probabilities(expr):
    """Write a derived slope with ŷ_1 = e^{z_1}/(e^{z_1} + e^{z_2}) and ŷ_2 = 1 − ŷ_1."""
    e = sp.simplify(expr.xreplace({sym["z_1"]: z1, sym["z_2"]: z2}))
    e = e.subs(z2, z1 + sp.log((1 - y1) / y1))  # e^{z_2 - z_1} = ŷ_2/ŷ_1
    return sp.factor(sp.simplify(e)).subs(1 - y1, y2)


ce_p, quad_p = in_probabilities(ce.result), in_probabilities(quad.result)


def plain(expr) -> str:
    return str(expr).replace("\\hat{y}", "ŷ").replace("**", "^").replace("*", "·")


lesson.math(
    rf"\frac{{\partial L}}{{\partial z_1}} = {sp.latex(ce_p)}, \qquad "
    rf"\frac{{\partial C}}{{\partial z_1}} = {sp.latex(quad_p)}",
    text=f"∂L/∂z_1 = {plain(ce_p)},   ∂C/∂z_1 = {plain(quad_p)}",
)
peak_p = [r for r in sp.solve(sp.diff(quad_p.subs(y2, 1 - y1), y1), y1) if 0 < r < 1]
peak = sp.Abs(quad_p.subs(y2, 1 - y1).subs(y1, peak_p[0]))
lesson.markdown(
    "(SymPy rewrote both derived slopes with the probabilities, using $\\hat{y}_2 = 1 - \\hat{y}_1$.) "
    "The cross-entropy's slope is the error itself, $-\\hat{y}_2 = \\hat{y}_1 - 1$: the further the network is "
    "from the right answer, the harder it is pushed. The quadratic cost's slope carries the extra "
    f"factor $\\hat{{y}}_1 \\hat{{y}}_2$ of the softmax Jacobian: it is never steeper than "
    f"${sp.latex(peak)} \\approx {float(peak):.4f}$ (reached at $\\hat{{y}}_1 = {sp.latex(peak_p[0])}$, "
    "SymPy's `solve`), and it goes to 0 as the probability of the right class goes to 0."
)

# %%
d = np.linspace(-6.0, 10.0, 801)  # z_2 - z_1: how strongly the network prefers the wrong class
slope_ce = lambdify([sym["z_1"], sym["z_2"]], ce.result)(0.0, d)
slope_quad = lambdify([sym["z_1"], sym["z_2"]], quad.result)(0.0, d)
prob_right = layer.probabilities(np.stack([np.zeros_like(d), d], axis=1))[:, 0]  # the softmax kernel
WRONG = 6.0
at = int(np.argmin(np.abs(d - WRONG)))
fig = Figure(figsize=(10, 3.8), layout="constrained")
ax1, ax2 = fig.subplots(1, 2)
ax1.plot(d, np.abs(slope_ce), lw=2, label=r"cross-entropy $|\partial L / \partial z_1|$")
ax1.plot(d, np.abs(slope_quad), lw=2, label=r"quadratic $|\partial C / \partial z_1|$")
ax1.axvline(WRONG, color="0.6", ls=":", lw=1)
ax1.set_xlabel(r"$z_2 - z_1$ (how much the network prefers the wrong class)")
ax1.set_ylabel("size of the slope")
ax1.legend()
ax1.set_title("The push gradient descent gets")
ax2.plot(d, prob_right, color="tab:green", lw=2)
ax2.set_xlabel(r"$z_2 - z_1$")
ax2.set_ylabel(r"$\hat{y}_1$, probability of the right class")
ax2.set_title("How wrong the network is")
slope_fig = lesson.figure(
    fig,
    "slopes",
    "The slope of each cost with respect to the right "
    "class's output, as the network grows more confidently wrong (left), "
    "and the probability it gives the right class (right).",
    width=0.95,
)
lesson.markdown(
    f"{slope_fig}: when the network prefers the wrong class by $z_2 - z_1 = {WRONG:g}$, it gives "
    f"the right class a probability of {prob_right[at]:.4f}. The cross-entropy then pushes with "
    f"a slope of size {abs(slope_ce[at]):.4f}, the quadratic cost with {abs(slope_quad[at]):.4f}, "
    f"{abs(slope_ce[at]) / abs(slope_quad[at]):.0f} times less: with the quadratic cost a badly "
    "wrong network learns slowest exactly when it most needs to learn. That is why classifiers "
    "put softmax and cross-entropy at the end (Nielsen, 2015, chapter 3)."
)

# %% [markdown]
# ## Comparing networks
#
# The cross-entropy also tells more than counting mistakes. Three pictures of dogs, and what two
# networks answer:

# %%
Z = {
    "network A": np.array([[3.0, 0.0], [0.4, 0.0], [-0.4, 0.0]]),
    "network B": np.array([[0.4, 0.0], [0.4, 0.0], [-3.0, 0.0]]),
}
Y = np.tile(y, (3, 1))
rows, costs = [], {}
for name, zz in Z.items():
    pp = layer.probabilities(zz)
    wrong = int(np.sum(pp.argmax(axis=1) != 0))
    quad_cost = float(np.mean(0.5 * np.sum((pp - Y) ** 2, axis=1)))
    costs[name] = (quad_cost, layer.value(zz, Y))
    rows.append(
        [
            name,
            ", ".join(f"{v:.2f}" for v in pp[:, 0]),
            f"{wrong} of {len(zz)}",
            f"{quad_cost:.4f}",
            f"{costs[name][1]:.4f}",
        ]
    )
lesson.table(
    ["", r"$\hat{y}_{dog}$ for the three pictures", "mistakes", "quadratic cost (mean)", "cross-entropy (mean)"],
    rows,
    caption="Two networks with the same number of mistakes, and their costs.",
)
lesson.markdown(
    "Both networks get one picture wrong, so counting mistakes cannot tell them apart. Network A "
    "is sure where it is right and only slightly wrong on its mistake; network B is unsure where "
    "it is right and confidently wrong on its mistake. Both costs prefer network A; the "
    "cross-entropy, with its $-\\ln$, makes B's cost "
    f"{costs['network B'][1] / costs['network A'][1]:.1f} times A's, the quadratic cost "
    f"{costs['network B'][0] / costs['network A'][0]:.1f} times."
)

# %%
# Exercises for the chapter's end; `symnn check --exercise ID FILE` grades an answer.
SETUP = """given s_1 = exp(z_1)/(exp(z_1) + exp(z_2))
given s_2 = exp(z_2)/(exp(z_1) + exp(z_2))
given y_2 = 1 - y_1
given L = -(y_1*ln(s_1) + y_2*ln(s_2))"""
lesson.exercise("Derive $\\partial s_2/\\partial z_1$ for a two-class softmax.", "ds_2/dz_1", SETUP)
lesson.exercise(
    "Derive the softmax-cross-entropy gradient $\\partial L/\\partial z_1$ for a one-hot target.", "dL/dz_1", SETUP
)
