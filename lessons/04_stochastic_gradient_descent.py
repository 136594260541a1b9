# %% [markdown]
# Lesson 3's gradient descent looked at the whole table before every step: it summed the
# gradient over all the rows, then moved the weights once. That is **batch** gradient descent.
# **Stochastic** gradient descent moves the weights after every single row, taking the rows in
# a random order; **mini-batch** gradient descent sits in between and updates after each small
# group of rows. This lesson trains the lecture's perceptron all three ways, compares their
# cost curves, and shows why the noise of the stochastic updates is a strength when the cost
# has more than one valley.

# %%
import numpy as np
import sympy as sp
from matplotlib.figure import Figure

import symnn
from symnn.course import Lesson, lambdify
from symnn.nn import Dense, Sequential, Sigmoid
from symnn.nn.data import load, study_table
from symnn.wording import plural

lesson = Lesson(4, "Stochastic gradient descent", reading=["trask", "nielsen"])

# %% [markdown]
# ## The table on the stochastic-gradient-descent slides
#
# The slides on (stochastic) gradient descent use a second version of the lecture's table.

# %%
first, table = study_table(1), study_table(2)
changed = [r2["row_id"] for r1, r2 in zip(first.rows, table.rows) if r1 != r2]
lesson.table(
    ["Row ID", "Study Hrs", "Sleep Hrs", "Quiz", "Exam"],
    [
        [r["row_id"], f"{r['study_hrs']:g}", f"{r['sleep_hrs']:g}", f"{100 * r['quiz']:g}%", f"{100 * r['exam']:g}%"]
        for r in table.rows
    ],
    caption="The table on the \"Stochastic Gradient Descent\" slides.",
)
data = load("study2")  # the same rows, each input column divided by its maximum (lesson 2)
X, y = data.X_train, data.y_train
N = len(y)
lesson.markdown(
    f"It differs from the table of lesson 2 in rows {', '.join(map(str, changed[:-1]))} and "
    f"{changed[-1]}. As before, each input column is divided by its largest value, so all "
    f"inputs lie between 0 and 1, and the target $y$ is the exam mark as a fraction."
)

# %% [markdown]
# ## Batch and stochastic updates
#
# Both replace a weight $w$ by $w - \eta\, \partial C / \partial w$; they differ in which
# cost they differentiate. Stochastic gradient descent takes the cost of one row and
# updates at once; batch gradient descent sums the cost over all the rows first. symnn
# derives both updates for $w_1$ (the other weights go the same way):

# %%
lesson.derivation(symnn.derive("gradient-descent"))

# %% [markdown]
# ## Three ways through the table
#
# One pass over the whole table is an **epoch**. In an epoch, batch gradient descent makes one
# update, mini-batch gradient descent one per group of rows, and stochastic gradient descent one
# per row. symnn's trainer does all three with the same generated kernels; only the size of
# the group changes. Each net below starts from the same random weights (same seed), and
# stochastic and mini-batch training shuffle the rows at the start of every epoch.

# %%
SEED, ETA, EPOCHS, MINI = 0, 2.0, 400, 4
MODES = {"batch": "batch", "minibatch": f"mini-batch ({MINI} rows)", "sgd": "stochastic (1 row)"}
curves, updates = {}, {}
for mode in MODES:
    net = Sequential([Dense(3, 1), Sigmoid()], loss="quadratic", seed=SEED)
    net.fit(X, y, epochs=EPOCHS, lr=ETA, batch_size=MINI, mode=mode, validation=(X, y))
    # validation: the cost of the whole table after each epoch (history["loss"] is the running
    # mean during the epoch); the trainer records the mean per row, the lecture's C sums over them
    curves[mode] = N * np.array(net.history["val_loss"])
    updates[mode] = {"batch": 1, "minibatch": -(-N // MINI), "sgd": N}[mode]
lesson.code(f"""net = Sequential([Dense(3, 1), Sigmoid()], loss="quadratic", seed={SEED})
net.fit(X, y, epochs={EPOCHS}, lr={ETA:g}, batch_size={MINI}, mode=mode,
        validation=(X, y))
# mode is "batch", "minibatch" or "sgd"; net.history["val_loss"]
# is the table's mean cost after each epoch
""")
checkpoints = [1, 10, 50, EPOCHS]
lesson.table(
    ["mode", "updates per epoch"] + [f"$C$ after {e} epoch{'s' * (e > 1)}" for e in checkpoints],
    [[label, updates[m]] + [f"{curves[m][e - 1]:.4f}" for e in checkpoints] for m, label in MODES.items()],
    caption=f"The cost $C = \\sum \\frac{{1}}{{2}}(\\hat{{y}} - y)^2$ over the table "
    f"while training the perceptron three ways ($\\eta = {ETA:g}$, seed {SEED}).",
)

# %%
target = curves["sgd"][49]
catch_up = {
    m: int(np.argmax(curves[m] <= target)) + 1 if np.any(curves[m] <= target) else None for m in ("batch", "minibatch")
}


def catch_text(m):
    e = catch_up[m]
    return plural(e, "epoch") if e else f"more than the {EPOCHS} epochs trained (its cost is still {curves[m][-1]:.4f})"


lesson.markdown(
    f"Per epoch, the stochastic version learns fastest: it makes {updates['sgd']} updates for "
    f"batch gradient descent's one. After 50 epochs it has brought the cost down to "
    f"{target:.4f}; mini-batch gradient descent needs {catch_text('minibatch')} to get there, "
    f"batch gradient descent {catch_text('batch')}."
)

fig = Figure(figsize=(10, 4), layout="constrained")
ax1, ax2 = fig.subplots(1, 2)
colours = {"batch": "tab:blue", "minibatch": "tab:orange", "sgd": "tab:red"}
for m, label in MODES.items():
    epochs = np.arange(1, EPOCHS + 1)
    ax1.plot(epochs, curves[m], color=colours[m], lw=1.5, label=label)
    ax2.plot(epochs * updates[m], curves[m], color=colours[m], lw=1.5, label=label)
ax1.set_xlabel("epoch (passes over the table)")
ax2.set_xlabel("number of weight updates")
ax2.set_xlim(0, EPOCHS)
for ax in (ax1, ax2):
    ax.set_yscale("log")
    ax.set_ylabel("cost $C$")
    ax.legend()
ax1.set_title("Per epoch")
ax2.set_title(f"Per update (the first {EPOCHS})")
curves_fig = lesson.figure(
    fig,
    "modes",
    f"The cost while training the lecture's perceptron by "
    f"batch, mini-batch and stochastic gradient descent ($\\eta = {ETA:g}$, "
    "same starting weights).",
    width=0.95,
)

# %%
U = EPOCHS  # compare after the same number of updates: batch's last epoch
at_u = {m: curves[m][U // updates[m] - 1] for m in MODES}
rows_per_update = {"batch": N, "minibatch": MINI, "sgd": 1}
ups = {m: int(np.sum(np.diff(curves[m]) > 0)) for m in MODES}
smooth = [{"batch": "batch", "minibatch": "mini-batch", "sgd": "stochastic"}[m] for m in MODES if ups[m] == 0]
assert max(at_u.values()) < 1.05 * min(at_u.values()), "per update, the three should be close"

lesson.table(
    [
        "mode",
        "rows read per update",
        f"$C$ after {U} updates",
        "epochs this took",
        f"epochs in which $C$ rose (of {EPOCHS})",
    ],
    [[label, rows_per_update[m], f"{at_u[m]:.4f}", U // updates[m], ups[m]] for m, label in MODES.items()],
    caption="The three methods after the same number of updates, and how often the "
    "cost went up from one epoch to the next.",
)
lesson.markdown(
    f"Counted per update ({curves_fig}, right) the three curves almost coincide: after {U} "
    f"updates the costs are {at_u['batch']:.4f} (batch), {at_u['minibatch']:.4f} (mini-batch) "
    f"and {at_u['sgd']:.4f} (stochastic). A step computed from one row is here about as good "
    f"as a step computed from all {N}, and it costs 1/{N} of the work. The price is noise: "
    "a single row is only an estimate of the whole table's slope, and a step that helps one "
    "row can hurt the others. "
    + (
        f"The cost of {' and '.join(smooth)} gradient descent never went up from one epoch to "
        f"the next; the stochastic cost went up in {ups['sgd']} of its {EPOCHS} epochs."
        if smooth
        else ""
    )
    + " On a data set with thousands of rows, waiting for all of them before every step is a "
    "high price, and mini-batches of tens of rows are the usual compromise (lesson 6 uses 10)."
)

# %% [markdown]
# ## Why stochastic: a cost with two valleys
#
# So far the noise of the stochastic updates was only a nuisance. It becomes an advantage
# when the cost has more than one valley, as the cost of a bigger network usually does.
# Gradient descent cannot see past the rim of the valley it is in: where the slope is 0 it
# stops, whether that is the lowest point (the *global* minimum) or only a *local* one. To see
# what the noise does, take one weight $w$ and eight rows whose costs are the same double well,
# each tilted by its own amount $a_r$:
#
# $$c_r(w) = \tfrac{1}{4}(w^2 - 1)^2 + a_r w,$$
#
# and let the cost of the table be their mean, as symnn's trainer averages the rows' costs
# (the lecture's sum only multiplies $\eta$ by the number of rows). Each row's slope:

# %%
row_cost = symnn.derive("expression", expr="(w**2 - 1)**2/4 + a*w", wrt="w")
lesson.derivation(row_cost, title="The slope of one row's cost")
sym = {v.name: v for v in row_cost.goals[0].definition.free_symbols}
w, a = sym["w"], sym["a"]
cost_of = lambdify([w, a], row_cost.goals[0].definition)
slope_of = lambdify([w, a], row_cost.result)
curv = lambdify(w, sp.diff(row_cost.result, w))  # the same for every row: the tilt is linear


def critical_points(tilt: float) -> list[float]:
    """The real w where the slope a + w(w^2 - 1) is 0, from SymPy's nroots."""
    roots = sp.Poly(row_cost.result.subs(a, sp.Float(tilt, 15)), w).nroots()
    return sorted(float(sp.re(r)) for r in roots if abs(sp.im(r)) < 1e-12)


# %%
TILT, SPREAD, TILT_SEED = 0.25, 2.0, 0
noise = np.random.default_rng(TILT_SEED).normal(0.0, SPREAD, size=N)
tilts = TILT + noise - noise.mean()  # the rows' tilts average exactly TILT
a_bar = float(tilts.mean())
critical = critical_points(a_bar)
minima = [c for c in critical if curv(c) > 0]
w_global, w_local = sorted(minima, key=lambda c: cost_of(c, a_bar))
w_hump = next(c for c in critical if curv(c) < 0)
C_at = {name: float(cost_of(c, a_bar)) for name, c in (("global", w_global), ("local", w_local), ("hump", w_hump))}
disc = sp.discriminant(sp.Poly(row_cost.result, w))  # > 0: three critical points, two valleys
only_left = [r + 1 for r in range(N) if float(disc.subs(a, tilts[r])) < 0 and critical_points(tilts[r])[0] < 0]
only_right = [r + 1 for r in range(N) if float(disc.subs(a, tilts[r])) < 0 and critical_points(tilts[r])[0] > 0]
lesson.table(
    ["row $r$"] + [str(r + 1) for r in range(N)],
    [["tilt $a_r$"] + [f"{t:.3f}" for t in tilts]],
    caption=f"The rows' tilts (normal, standard deviation {SPREAD:g}, seed {TILT_SEED}, "
    f"shifted to average exactly {TILT:g}).",
)


def rows_text(rows):
    return f"row {rows[0]}" if len(rows) == 1 else f"rows {', '.join(map(str, rows[:-1]))} and {rows[-1]}"


lesson.markdown(
    f"The table's cost $C(w) = \\frac{{1}}{{4}}(w^2 - 1)^2 + {a_bar:g}\\,w$ has slope 0 "
    f"(SymPy's `nroots`) at $w = {critical[0]:.4f}$, ${critical[1]:.4f}$ and ${critical[2]:.4f}$: "
    f"a deep valley at $w = {w_global:.4f}$ ($C = {C_at['global']:.4f}$), a hump at "
    f"$w = {w_hump:.4f}$ ($C = {C_at['hump']:.4f}$) and a shallow valley at $w = {w_local:.4f}$ "
    f"($C = {C_at['local']:.4f}$). The rows disagree. A row's cost has two valleys only when the "
    f"discriminant of its slope, ${sp.latex(sp.factor(disc))}$, is positive; the tilts of "
    f"{rows_text(only_left)} are too steep for that and leave only the valley on the left, those "
    f"of {rows_text(only_right)} only the valley on the right."
)

# %%
W0, STEP, ROUNDS, RUNS = 1.8, 0.2, 60, 40
batch_path = [W0]
for _ in range(ROUNDS):  # one update per epoch, with the table's slope
    batch_path.append(batch_path[-1] - STEP * float(slope_of(batch_path[-1], a_bar)))
batch_path = np.array(batch_path)


def stochastic(seed: int) -> np.ndarray:
    """One update per row, the rows shuffled every epoch (as symnn.nn's trainer does)."""
    rng, path = np.random.default_rng(seed), [W0]
    for _ in range(ROUNDS):
        for r in rng.permutation(N):
            path.append(path[-1] - STEP * float(slope_of(path[-1], tilts[r])))
    return np.array(path)


runs = {seed: stochastic(seed) for seed in range(RUNS)}
escaped = [seed for seed, p in runs.items() if np.all(p[-N:] < w_hump)]
SHOWN = min(escaped) if escaped else 0
sgd_path = runs[SHOWN]
over = np.flatnonzero(sgd_path >= w_hump)
for_good = int(over[-1]) + 1 if sgd_path[-1] < w_hump else None
last_epoch = sgd_path[-N:]
assert abs(batch_path[-1] - w_local) < 1e-6, "batch descent should settle in the shallow valley"
lesson.markdown(
    f"Start at $w = {W0:g}$, above the shallow valley, with $\\eta = {STEP:g}$. Batch gradient "
    f"descent follows the table's slope and after {ROUNDS} epochs sits at "
    f"$w = {batch_path[-1]:.4f}$, the bottom of the shallow valley: the slope there is 0, so it "
    f"stays for good. Stochastic gradient descent (rows shuffled with seed {SHOWN}) "
    + (
        f"goes over the hump for the last time at update {for_good} (epoch "
        f"{(for_good - 1) // N + 1}) and spends the rest of its {ROUNDS} epochs in the deep valley, "
        f"between $w = {last_epoch.min():.3f}$ and ${last_epoch.max():.3f}$ during the last one."
        if for_good
        else "stays in the shallow valley too."
    )
    + f" Of {RUNS} runs with seeds 0 to {RUNS - 1}, {len(escaped)} ended in the deep valley."
)

fig = Figure(figsize=(10, 4), layout="constrained")
ax1, ax2 = fig.subplots(1, 2)
ws = np.linspace(-1.8, 2.0, 500)
for r in range(N):
    ax1.plot(ws, cost_of(ws, tilts[r]), color="0.8", lw=0.8, label="one row's cost $c_r$" if r == 0 else None)
ax1.plot(ws, cost_of(ws, a_bar), color="k", lw=2, label="the table's cost $C$")
ax1.plot(sgd_path, cost_of(sgd_path, a_bar), ".", color="tab:red", ms=3, alpha=0.6, label=f"stochastic (seed {SHOWN})")
ax1.plot(batch_path, cost_of(batch_path, a_bar), "o", color="tab:blue", ms=5, label="batch")
ax1.set_ylim(-1.0, 2.0)
ax1.set_xlabel("$w$")
ax1.set_ylabel("cost")
ax1.legend(loc="upper center", fontsize=8)
ax1.set_title("Two valleys")
ax2.plot(np.arange(len(batch_path)), batch_path, "o-", color="tab:blue", ms=3, label="batch")
ax2.plot(np.arange(len(sgd_path)) / N, sgd_path, "-", color="tab:red", lw=0.8, label=f"stochastic (seed {SHOWN})")
for c, name, dy in ((w_local, "shallow valley", -12), (w_hump, "hump", 3), (w_global, "deep valley", 3)):
    ax2.axhline(c, color="0.4", ls=":", lw=1)
    ax2.annotate(
        name,
        (ROUNDS, c),
        textcoords="offset points",
        xytext=(-4, dy),
        ha="right",
        fontsize=8,
        bbox={"facecolor": "white", "alpha": 0.8, "linewidth": 0},
    )
ax2.set_xlabel("epoch")
ax2.set_ylabel("$w$")
ax2.legend(loc="upper right")
ax2.set_title("Where $w$ goes")
valley_fig = lesson.figure(
    fig,
    "two_valleys",
    "Batch gradient descent settles in the shallow "
    "valley; the row-by-row steps of stochastic gradient descent carry $w$ "
    "over the hump into the deep valley, where it keeps jiggling.",
    width=0.95,
)
lesson.markdown(
    f"{valley_fig} shows why. At the bottom of the shallow valley the table's slope is 0, but "
    f"no single row's slope is: the rows with a steep positive tilt ({rows_text(only_left)}) "
    "push $w$ towards the hump, and when a few of them come one after the other they carry it "
    f"over. The way back is harder: from the deep valley the hump is "
    f"{C_at['hump'] - C_at['global']:.4f} higher, from the shallow one only "
    f"{C_at['hump'] - C_at['local']:.4f}. The same noise makes the stochastic path jiggle at "
    "the bottom instead of settling; making $\\eta$ smaller as training goes on calms it."
)
lesson.note(
    "Stochastic gradient descent does not *guarantee* the global minimum: here "
    f"{RUNS - len(escaped)} of the {RUNS} seeded runs did not end there. It makes getting stuck "
    "less likely, and each of its steps is cheap. Both are reasons why networks are trained with "
    "stochastic or mini-batch updates (Trask, 2015; Nielsen, 2015)."
)

# %%
# Exercises for the chapter's end; `symnn check --exercise ID FILE` grades an answer.
SETUP = """given z_i = w_1*x_1_i + w_2*x_2_i + w_3*x_3_i + b
given yhat_i = sigmoid(z_i)
given C = sum((yhat_i - y_i)^2, (i, 1, n))/(2*n)"""
lesson.exercise("Derive the batch gradient of the mean cost over $n$ rows with respect to $b$.", "dC/db", SETUP)
lesson.exercise("Derive the batch gradient with respect to $w_1$; compare it with one row's.", "dC/dw_1", SETUP)
