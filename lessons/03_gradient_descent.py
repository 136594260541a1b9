# %% [markdown]
# Lesson 2 found the direction in which each weight should move. How do we find the *best*
# weights — those with the smallest cost? The obvious idea is to try them all. This lesson
# shows, with exact arithmetic, why that cannot work (the curse of dimensionality), and then
# how gradient descent does the job instead, one step downhill at a time.

# %%
import numpy as np
import sympy as sp
from matplotlib.figure import Figure

import symnn
from symnn.course import Lesson, grouped, lambdify, on_rows, sci
from symnn.nn.data import load

lesson = Lesson(3, "Gradient descent", reading=["nielsen", "trask"])

# %% [markdown]
# ## The curse of dimensionality
#
# Suppose we try every weight at many different values and keep the best combination. For one
# weight that is one evaluation of the cost per value; but every extra weight multiplies the
# number of combinations by the number of values. symnn works the lecture's example out
# exactly (SymPy integers and fractions, no floating point) and rounds only at the end.

# %%
VALUES, WEIGHTS = 1000, 25  # the slide's example: 1,000 values for each of 25 weights
PFLOPS = 93  # Sunway TaihuLight, the fastest computer when the slides were made
DAY = 24 * 60 * 60  # seconds
YEAR_DAYS = sp.Rational(36525, 100)  # a Julian year, 365.25 days
COMMON_YEAR_DAYS = sp.Integer(365)  # the other candidate for the slide's year
SLIDE = {"seconds": "1.08 × 10^58", "years": "3.42 × 10^50"}  # as printed on the slide, to check

combinations = sp.Integer(VALUES) ** WEIGHTS
power = sp.log(combinations, 10)
assert power.is_Integer and sp.Integer(10) ** power == combinations
flops = PFLOPS * sp.Integer(10) ** 15
seconds = combinations / flops  # an exact fraction
year = YEAR_DAYS * DAY
years = seconds / year


def tex_int(n) -> str:
    """An integer in LaTeX: a power of ten as 10^{k}, else with thousands separators."""
    k = sp.log(n, 10)
    return f"10^{{{k}}}" if k.is_Integer and k > 4 else grouped(n).replace(",", "{,}")


def text_int(n) -> str:
    k = sp.log(n, 10)
    return f"10^{k}" if k.is_Integer and k > 4 else grouped(n)


v = tex_int(VALUES)
lesson.markdown(f"The lecture's example takes {grouped(VALUES)} values for each of {WEIGHTS} weights:")
lesson.math(
    rf"\underbrace{{{v} \times {v} \times \dots \times {v}}}_{{{WEIGHTS}\ \text{{weights}}}}"
    rf" = {v}^{{{WEIGHTS}}} = 10^{{{power}}} \text{{ combinations}}",
    text=f"{grouped(VALUES)} × ... × {grouped(VALUES)} ({WEIGHTS} weights) = "
    f"{grouped(VALUES)}^{WEIGHTS} = 10^{power} combinations",
)
s_sci, y_sci = sci(seconds), sci(years)
lesson.markdown(
    f"Sunway TaihuLight, the world's fastest supercomputer when the lecture was written, does "
    f"{PFLOPS} PFLOPS: ${PFLOPS} \\times 10^{{15}}$ floating-point operations per second. Even if "
    f"it could test one combination per operation, trying all $10^{{{power}}}$ would take"
)
lesson.math(
    rf"\frac{{10^{{{power}}}}}{{{PFLOPS} \times 10^{{15}}}} = "
    rf"\frac{{{tex_int(seconds.p)}}}{{{tex_int(seconds.q)}}}\ \text{{s}} "
    rf"= {sci(seconds, 8).latex}\ldots\ \text{{s}} \approx {s_sci.latex} \text{{ seconds}}",
    text=f"10^{power} / ({PFLOPS} × 10^15) = {text_int(seconds.p)}/{text_int(seconds.q)} s "
    f"= {sci(seconds, 8)}... s ≈ {s_sci} seconds",
)
lesson.markdown(f"and with a year of {float(YEAR_DAYS):g} days ({grouped(int(year))} seconds):")
lesson.math(
    rf"\frac{{{tex_int(seconds.p)}}}{{{tex_int(seconds.q)} \times {tex_int(int(year))}}}"
    rf"\ \text{{years}} = {sci(years, 8).latex}\ldots \approx {y_sci.latex} \text{{ years}}",
    text=f"{text_int(seconds.p)}/{text_int(seconds.q)} / {grouped(int(year))} years = "
    f"{sci(years, 8)}... ≈ {y_sci} years",
)

# %%
YEARS_365 = COMMON_YEAR_DAYS * DAY
rounded_seconds = sp.Rational(s_sci.value.numerator, s_sci.value.denominator)
rows, results = [], {}
for label, secs in (
    (f"exact: $\\frac{{{tex_int(seconds.p)}}}{{{tex_int(seconds.q)}}}$ s", seconds),
    (f"rounded first: ${s_sci.latex}$ s", rounded_seconds),
):
    for days, length in ((YEAR_DAYS, year), (COMMON_YEAR_DAYS, YEARS_365)):
        value = secs / length
        results[(secs is seconds, days)] = sci(value)
        rows.append([label, f"{float(days):g} days", sci(value, 6), sci(value)])
slide = results[(False, YEAR_DAYS)]
assert s_sci.text == SLIDE["seconds"], "symnn and the slide disagree on the number of seconds"
assert slide.text == SLIDE["years"], "rounding twice does not reproduce the slide"
lesson.markdown(
    f"The slide agrees on ${s_sci.latex}$ seconds but gives ${slide.latex}$ years, not "
    f"${y_sci.latex}$. Which year length did it use, and where does its last digit come from? "
    "symnn redoes the division four ways:"
)
lesson.table(
    ["seconds", "year", "years (6 figures)", "years (3 figures)"],
    rows,
    caption="The number of years, from the exact and from the rounded number of seconds.",
)
exact = {results[(True, d)].text for d in (YEAR_DAYS, COMMON_YEAR_DAYS)}
twice = {results[(False, d)].text for d in (YEAR_DAYS, COMMON_YEAR_DAYS)}
assert exact == {y_sci.text} and twice == {SLIDE["years"]} != exact
lesson.note(
    f"The slide says ${slide.latex}$ years; the right value is ${y_sci.latex}$ years. Dividing "
    f"the exact number of seconds, ${tex_int(seconds.p)}/{seconds.q}$, by a year gives "
    f"${sci(years, 6).latex}$, which rounds to ${y_sci.latex}$ whether a year has "
    f"{float(YEAR_DAYS):g} or {COMMON_YEAR_DAYS} days. The slide's {slide.mantissa} comes "
    f"from dividing the already rounded ${s_sci.latex}$ seconds (which is "
    f"{float((rounded_seconds - seconds) / seconds) * 100:.2f}% too large): rounding twice moved "
    "the last digit. Either way the conclusion stands: brute force is hopeless."
)

# %% [markdown]
# ## Gradient descent
#
# Instead of trying every combination, start somewhere, look at the slope of the cost, and
# take a small step downhill; repeat. The slope is the gradient $\partial C / \partial w$ that
# lesson 2 derived, and the step size is the *learning rate* $\eta$. symnn derives the update
# rule for one row (stochastic) and for the whole table (batch):

# %%
gd = symnn.derive("gradient-descent")
lesson.derivation(gd)
update = gd.steps[-1]  # w_1' = w_1 - eta * (the batch gradient)
batch = gd.goals[-1]  # its definition is the cost C summed over the table

# %% [markdown]
# ## Rolling down a convex cost
#
# To see the steps, keep $w_2$, $w_3$ and $b$ fixed and let gradient descent move $w_1$ alone:
# the cost is then a curve $C(w_1)$, and each step of the batch update rule above moves one
# point along it. The table is the one on the lecture's gradient-descent slides, with its inputs
# scaled as in lesson 2.

# %%
data = load("study2")
columns = {"x_1": data.X_train[:, 0], "x_2": data.X_train[:, 1], "x_3": data.X_train[:, 2], "y": data.y_train}
cost_table = on_rows(batch.definition, columns)
rule_table = on_rows(update.rhs, columns)
sym = {v.name: v for v in rule_table.free_symbols}
w1, eta = sym["w_1"], sym["eta"]
SEED = 0
fixed = dict(zip(("w_2", "w_3", "b"), np.random.default_rng(SEED).normal(0.0, 0.1, size=3)))
held = {sym[name]: value for name, value in fixed.items()}
C_of_w1 = cost_table.xreplace(held)
cost = lambdify(w1, C_of_w1)
step = lambdify([w1, eta], rule_table.xreplace(held))
curvature = lambdify(w1, sp.diff(C_of_w1, w1, 2))

# where is C(w_1) convex? grow an interval around the lowest point while C'' > 0
grid = np.linspace(-10.0, 20.0, 3001)
c2 = curvature(grid)
lo = hi = int(np.argmin(cost(grid)))
while lo > 0 and c2[lo - 1] > 0:
    lo -= 1
while hi < len(grid) - 1 and c2[hi + 1] > 0:
    hi += 1
w_lo, w_hi = float(grid[lo]), float(grid[hi])
L = float(c2[lo : hi + 1].max())
ETA = 1.0 / L
w_best = float(sp.nsolve(sp.diff(C_of_w1, w1), w1, float(grid[np.argmin(cost(grid))])))

TOL, MAX_STEPS = 1e-5, 5000
path = [w_lo]
while len(path) <= MAX_STEPS and (len(path) < 2 or abs(path[-1] - path[-2]) > TOL):
    path.append(float(step(path[-1], ETA)))
path = np.array(path)
assert abs(path[-1] - path[-2]) <= TOL, "gradient descent did not settle"
assert np.all(np.diff(cost(path)) <= 0) and np.all((path >= w_lo) & (path <= w_best + 1e-9))
lesson.markdown(
    f"With $w_2 = {fixed['w_2']:.4f}$, $w_3 = {fixed['w_3']:.4f}$ and $b = {fixed['b']:.4f}$ (seed "
    f"{SEED}), $C(w_1)$ is convex — its second derivative, from SymPy, is positive — for $w_1$ "
    f"between {w_lo:.2f} and {w_hi:.2f}, and lowest at $w_1 = {w_best:.4f}$ (SymPy's `nsolve` on "
    f"$\\partial C / \\partial w_1 = 0$). Outside that interval the sigmoid flattens and the curve "
    f"bends the other way. Gradient descent starts at the interval's left end, $w_1 = {w_lo:.2f}$, "
    f"with $\\eta = 1 / \\max C'' = {ETA:.4f}$: a step that size can never overshoot the minimum "
    "of a convex curve."
)

shown = list(range(min(6, len(path)))) + [len(path) - 1]
lesson.table(
    ["step", "$w_1$", r"$\partial C / \partial w_1$", "$C$"],
    [[k, f"{path[k]:.4f}", f"{(path[k] - step(path[k], ETA)) / ETA:.3g}", f"{cost(path[k]):.5f}"] for k in shown],
    caption=f"Batch gradient descent on $w_1$ ($\\eta = {ETA:.4f}$): the first steps and the last.",
)

fig = Figure(figsize=(10, 4), layout="constrained")
ax = fig.add_subplot(1, 2, 1)
ws = np.linspace(w_lo, w_hi, 400)
ax.plot(ws, cost(ws), lw=2, color="0.3", label="$C(w_1)$")
ax.plot(path, cost(path), "-", color="tab:red", lw=1)
ax.plot(path[:30], cost(path[:30]), "o", color="tab:red", ms=5, label="gradient descent")
for k in shown[:4]:
    ax.annotate(str(k), (path[k], cost(path[k])), textcoords="offset points", xytext=(4, 6))
ax.axvline(w_best, color="tab:green", ls=":", label=f"minimum, $w_1 = {w_best:.3f}$")
ax.set_xlabel("$w_1$")
ax.set_ylabel("cost $C$")
ax.legend()
ax.set_title("The path down the cost curve")
ax2 = fig.add_subplot(1, 2, 2)
ax2.plot(range(len(path)), cost(path) - cost(w_best), "o-", ms=3, color="tab:red")
ax2.set_yscale("log")
ax2.set_xlabel("step")
ax2.set_ylabel("$C - C_{min}$")
ax2.set_title("Distance to the lowest cost")
figure = lesson.figure(
    fig,
    "descent",
    "Gradient descent on the convex cost $C(w_1)$ of the "
    "lecture's table: every step goes downhill, and the steps shrink as the "
    "slope flattens.",
)
lesson.markdown(
    f"After {len(path) - 1} steps $w_1$ moves by less than ${sci(TOL, 1).latex}$ per step and "
    f"stops at {path[-1]:.4f}, {abs(path[-1] - w_best):.1e} from the minimum found by `nsolve`. "
    f"{figure} shows the path: big steps where the curve is steep, ever smaller ones as it "
    "flattens near the bottom — which is also why the last digits take so many steps. With all "
    "four parameters moving at once the picture has more dimensions but the rule is the same."
)
