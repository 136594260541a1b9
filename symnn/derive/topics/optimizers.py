"""Optimizers (the kernels sgd.update, momentum.update, nesterov.update, rmsprop.update,
adam.update, adam.count): each update rule in PyTorch's convention, stated as definitions, then
rewritten in the previous values (what a kernel computes), with what the rule does checked by
SymPy — momentum's effective learning rate, RMSProp's and Adam's averages starting at 0, and why
Adam divides by 1 − β^t. Finite sums are checked at t = 1 … CHECK_STEPS, written out."""

from __future__ import annotations

import sympy as sp

from symnn import notation as N
from symnn.derive.derivation import DEFINITION, Derivation
from symnn.derive.topics import named, topic
from symnn.errors import unknown

OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam")
CHECK_STEPS = 6  # the sums over the first t updates are checked at t = 1 … 6

PYTORCH = (
    "PyTorch documentation: torch.optim.SGD (momentum, nesterov), torch.optim.RMSprop, torch.optim.Adam. "
    "https://pytorch.org/docs/stable/optim.html"
)
KINGMA = (
    "Kingma, D. P., Ba, J. (2015). Adam: A Method for Stochastic Optimization, §2 and §3 (initialization "
    "bias correction). https://arxiv.org/abs/1412.6980"
)
SUTSKEVER = (
    "Sutskever, I., Martens, J., Dahl, G., Hinton, G. (2013). On the importance of initialization and "
    "momentum in deep learning. http://proceedings.mlr.press/v28/sutskever13.html"
)

# the hyperparameters (PyTorch's names in the notes)
eta = N.eta
mu = named("μ", r"\mu", positive=True)
alpha = named("α", r"\alpha", positive=True)
beta1 = named("β₁", r"\beta_{1}", positive=True)
beta2 = named("β₂", r"\beta_{2}", positive=True)
eps = named("ε", r"\varepsilon", positive=True)
t = sp.Symbol("t", integer=True, positive=True)  # the update's number: 1 at the first
t_prev = named("t_prev", r"t_{\mathrm{prev}}", integer=True, nonnegative=True)
k = sp.Symbol("k", integer=True, positive=True)
E_g = named("E[g]", r"\mathbb{E}[g]", real=True)
E_g2 = named("E[g²]", r"\mathbb{E}[g^{2}]", positive=True)
E_m, E_v = named("E[m_t]", r"\mathbb{E}[m_{t}]", real=True), named("E[v_t]", r"\mathbb{E}[v_{t}]", real=True)
E_mhat = named("E[m̂_t]", r"\mathbb{E}[\hat{m}_{t}]", real=True)
E_vhat = named("E[v̂_t]", r"\mathbb{E}[\hat{v}_{t}]", real=True)
gk = sp.IndexedBase("g", real=True)  # the gradient at update k, in the unrolled sums


def _now(name: str, latex: str, **assumptions) -> tuple[sp.Symbol, sp.Symbol]:
    """(x_t, x_{t−1}): a quantity after this update and before it."""
    return named(f"{name}_t", f"{latex}_{{t}}", **assumptions), named(
        f"{name}_{{t−1}}", f"{latex}_{{t-1}}", **assumptions
    )


w_t, w_prev = _now("w", "w", real=True)
g_t = named("g_t", "g_{t}", real=True)
v_t, v_prev = _now("v", "v", real=True)  # momentum's velocity, Adam's second moment
s_t, s_prev = _now("s", "s", nonnegative=True)  # RMSProp's average of g²
m_t, m_prev = _now("m", "m", real=True)
mhat_t = named("m̂_t", r"\hat{m}_{t}", real=True)
vhat_t = named("v̂_t", r"\hat{v}_{t}", nonnegative=True)

# what each optimizer updates (key -> the new value's symbol) and what its kernel takes
STATE = {
    "sgd": {"w": w_t},
    "momentum": {"w": w_t, "v": v_t},
    "nesterov": {"w": w_t, "v": v_t},
    "rmsprop": {"w": w_t, "s": s_t},
    "adam": {"w": w_t, "m": m_t, "v": v_t, "t": t},
}
PREVIOUS = {w_t: w_prev, v_t: v_prev, s_t: s_prev, m_t: m_prev, t: t_prev}
HYPER = {"lr": eta, "mu": mu, "alpha": alpha, "beta1": beta1, "beta2": beta2, "eps": eps}

GRADIENT = (
    "g_t = ∂C/∂w at w_{t−1}: the gradient of the cost of the t-th mini-batch (the mean over its N "
    "samples, as symnn's batch gradient and PyTorch's default mean loss), one number per weight; every "
    "rule below acts on each weight (each array element) on its own."
)


def update_rules(d: Derivation, optimizer: str) -> dict[str, sp.Expr]:
    """Each updated quantity's new value in the previous values, by key ('w', 'v', 'm', 's', 't'):
    the right-hand side of the last step for it that is written in the kernel's inputs only."""
    inputs = {*PREVIOUS.values(), g_t, t, *HYPER.values()}
    rules = {}
    for key, new in STATE[optimizer].items():
        rules[key] = [s.rhs for s in d.equations if s.lhs == new and s.rhs.free_symbols <= inputs][-1]
    return rules


@topic("optimizer", "the update rules of SGD, momentum, Nesterov, RMSProp and Adam (with Adam's bias correction)")
def optimizer(optimizer: str = "adam") -> Derivation:
    key = str(optimizer).lower().replace("_", "-")
    build = {"sgd": _sgd, "momentum": _momentum, "nesterov": _nesterov, "rmsprop": _rmsprop, "adam": _adam}
    if key not in build:
        raise unknown("optimizer", optimizer, OPTIMIZERS)
    return build[key]()


def _new(title: str, intro: str, refs: list[str]) -> Derivation:
    d = Derivation(title, references=[*refs, PYTORCH])
    d.intro = f"{intro} {GRADIENT}"
    return d


def _recursion(rule: sp.Expr, new: sp.Symbol, steps: int, grads) -> list[sp.Expr]:
    """The rule applied `steps` times from 0, with grads(k) as the k-th gradient: [x_1, …, x_steps]."""
    values, x = [], sp.S.Zero
    for n in range(1, steps + 1):
        x = rule.xreplace({PREVIOUS[new]: x, g_t: grads(n)})
        values.append(x)
    return values


def _at_steps(expr: sp.Expr, steps: int = CHECK_STEPS) -> list[sp.Expr]:
    """expr at t = 1 … steps, its sums over k written out."""
    return [expr.xreplace({t: sp.Integer(n)}).doit() for n in range(1, steps + 1)]


def _checked(d: Derivation, lhs, rhs, rule: str, note: str, check_lhs: list, check_rhs: list) -> None:
    """A step SymPy checks through `check` instead: each of check_lhs equals check_rhs."""
    step = d.add(lhs, rhs, rule, note)
    step.check = (sp.Matrix(check_lhs), sp.Matrix(check_rhs))


def _sgd() -> Derivation:
    d = _new(
        "Stochastic gradient descent: w ← w − η g",
        "SGD moves every weight a step η against its gradient, once per mini-batch (η: lr; symnn's "
        "default 3.0 as in `symnn derive gradient-descent`; PyTorch's torch.optim.SGD: 1e-3).",
        [],
    )
    d.section("The update (torch.optim.SGD, momentum = 0)")
    d.add(w_t, w_prev - eta * g_t, DEFINITION, "step against the slope, scaled by the learning rate η")
    C_prev = named("C(w_{t−1})", r"C(w_{t-1})", real=True)
    d.add(
        C_prev + g_t * (w_t - w_prev),
        C_prev - eta * g_t**2,
        "substitution",
        "to first order the cost changes by g·Δw = −η g² ≤ 0: a descent step for η small enough",
    )
    return d


def _velocity(d: Derivation, note: str) -> None:
    d.add(v_t, mu * v_prev + g_t, DEFINITION, note)


def _momentum_sum(d: Derivation) -> None:
    d.section("What momentum does: a constant gradient g")
    grows = _recursion(mu * v_prev + g_t, v_t, CHECK_STEPS, lambda n: E_g)
    series = sp.Sum(mu ** (k - 1) * E_g, (k, 1, t))
    _checked(
        d,
        v_t,
        series,
        "unrolling (1) from v_0 = 0",
        f"with g_k = g at every update (checked at t = 1 … {CHECK_STEPS})",
        grows,
        _at_steps(series),
    )
    closed = (1 - mu**t) / (1 - mu) * E_g
    _checked(
        d,
        v_t,
        closed,
        "geometric series",
        "→ g/(1 − μ) as t grows (μ < 1): the steps become 1/(1 − μ) times SGD's, 10× for μ = 0.9",
        grows,
        _at_steps(closed),
    )


def _momentum() -> Derivation:
    d = _new(
        "SGD with momentum: v ← μ v + g, w ← w − η v",
        "Momentum keeps a velocity v, a running sum of past gradients that decays by μ per update, and "
        "steps along it (PyTorch's torch.optim.SGD convention, dampening 0: v_1 = g_1). Parameters: η "
        "(lr; symnn's default 0.3 = 3.0·(1 − μ)) and μ (momentum; symnn's default 0.9, PyTorch's 0 = "
        "plain SGD).",
        [SUTSKEVER],
    )
    d.section("The update (torch.optim.SGD, momentum = μ)")
    _velocity(d, "the velocity: v_0 = 0, so v_1 = g_1 as PyTorch's first step")
    d.add(w_t, w_prev - eta * v_t, DEFINITION, "step along the velocity")
    d.add(w_t, w_prev - eta * (mu * v_prev + g_t), "substitution", "(1) into (2): what momentum.update computes")
    _momentum_sum(d)
    return d


def _nesterov() -> Derivation:
    d = _new(
        "Nesterov momentum: v ← μ v + g, w ← w − η (g + μ v)",
        "Nesterov's accelerated gradient in PyTorch's form (torch.optim.SGD, nesterov=True): the same "
        "velocity as momentum, but the step looks ahead — it uses the gradient plus μ times the new "
        "velocity. Parameters: η (lr; default 0.3) and μ (momentum, > 0; default 0.9).",
        [SUTSKEVER],
    )
    d.section("The update (torch.optim.SGD, momentum = μ, nesterov = True)")
    _velocity(d, "the velocity, as in momentum: v_0 = 0")
    d.add(w_t, w_prev - eta * (g_t + mu * v_t), DEFINITION, "step along the gradient plus the look-ahead μ v_t")
    d.add(
        w_t,
        w_prev - eta * ((1 + mu) * g_t + mu**2 * v_prev),
        "substitution",
        "(1) into (2), expanded: the new gradient counts 1 + μ times, the old velocity μ² times (momentum: 1 and μ)",
    )
    d.add(
        w_t,
        w_prev - eta * (g_t + mu * (mu * v_prev + g_t)),
        "substitution",
        "(1) into (2) as PyTorch evaluates it: what nesterov.update computes",
    )
    _momentum_sum(d)
    return d


def _rmsprop() -> Derivation:
    d = _new(
        "RMSProp: s ← α s + (1 − α) g², w ← w − η g/(√s + ε)",
        "RMSProp divides each weight's step by the root of a running average s of its squared "
        "gradients, so weights with large gradients take smaller steps (PyTorch's torch.optim.RMSprop, "
        "centered=False, momentum 0). Parameters and PyTorch's defaults: η (lr) 0.01, α (alpha, the "
        "average's decay) 0.99, ε (eps, added to √s) 1e-8.",
        [],
    )
    d.section("The update (torch.optim.RMSprop)")
    d.add(s_t, alpha * s_prev + (1 - alpha) * g_t**2, DEFINITION, "the running average of g²: s_0 = 0")
    d.add(w_t, w_prev - eta * g_t / (sp.sqrt(s_t) + eps), DEFINITION, "the step, scaled by 1/(√s + ε)")
    d.add(
        w_t,
        w_prev - eta * g_t / (sp.sqrt(alpha * s_prev + (1 - alpha) * g_t**2) + eps),
        "substitution",
        "(1) into (2): what rmsprop.update computes",
    )
    d.section("The average starts at 0: a constant gradient g")
    grows = _recursion(alpha * s_prev + (1 - alpha) * g_t**2, s_t, CHECK_STEPS, lambda n: E_g)
    closed = (1 - alpha**t) * E_g**2
    _checked(
        d,
        s_t,
        closed,
        "unrolling (1) from s_0 = 0; geometric series",
        f"checked at t = 1 … {CHECK_STEPS}: s_t is too small by 1 − α^t early on (0.01 at t = 1), so "
        "the first steps are up to 10× larger; RMSProp keeps that bias, Adam corrects it",
        grows,
        _at_steps(closed),
    )
    return d


def _adam() -> Derivation:
    d = _new(
        "Adam: moving averages of g and g², corrected for starting at 0",
        "Adam keeps two running averages per weight, m of the gradient and v of its square, divides "
        "each by 1 − β^t to undo their start at 0, and steps by η m/(√v + ε) of the corrected averages "
        "(PyTorch's torch.optim.Adam, amsgrad=False, weight_decay 0). Parameters and PyTorch's defaults: "
        "η (lr) 1e-3, β₁ and β₂ (betas) 0.9 and 0.999, ε (eps) 1e-8; t counts the updates.",
        [KINGMA],
    )
    d.section("The update (torch.optim.Adam)")
    d.add(t, t_prev + 1, DEFINITION, "the update's number: t = 1 at the first (adam.count)")
    m_rule, v_rule = beta1 * m_prev + (1 - beta1) * g_t, beta2 * v_prev + (1 - beta2) * g_t**2
    d.add(m_t, m_rule, DEFINITION, "the first moment: a moving average of g, m_0 = 0")
    d.add(v_t, v_rule, DEFINITION, "the second moment: a moving average of g², v_0 = 0")
    d.add(mhat_t, m_t / (1 - beta1**t), DEFINITION, "bias-corrected: why, in the next section")
    d.add(vhat_t, v_t / (1 - beta2**t), DEFINITION, "bias-corrected likewise")
    d.add(w_t, w_prev - eta * mhat_t / (sp.sqrt(vhat_t) + eps), DEFINITION, "the step")
    d.section("Why the bias correction: the averages start at 0")
    unrolled = sp.Sum((1 - beta1) * beta1 ** (t - k) * gk[k], (k, 1, t))
    _checked(
        d,
        m_t,
        unrolled,
        "unrolling (2) from m_0 = 0",
        f"every past gradient, weighted β₁^(t−k)(1 − β₁) (checked at t = 1 … {CHECK_STEPS})",
        _recursion(m_rule, m_t, CHECK_STEPS, lambda n: gk[n]),
        _at_steps(unrolled),
    )
    mean = sp.Sum((1 - beta1) * beta1 ** (t - k) * E_g, (k, 1, t))
    moments = _recursion(m_rule, m_t, CHECK_STEPS, lambda n: E_g)
    _checked(
        d,
        E_m,
        mean,
        "linearity of E",
        "gradients of one mean: E[g_k] = E[g] for every k (a constant gradient g is the special case)",
        moments,
        _at_steps(mean),
    )
    _checked(
        d,
        E_m,
        (1 - beta1**t) * E_g,
        "geometric series",
        "Σ_{k=1..t} β₁^(t−k) = (1 − β₁^t)/(1 − β₁): biased towards 0 by the factor 1 − β₁^t (0.1 at t = 1)",
        moments,
        _at_steps((1 - beta1**t) * E_g),
    )
    _checked(
        d,
        E_mhat,
        E_g,
        "substitution",
        "(4): dividing by 1 − β₁^t removes the bias at every t",
        [m / (1 - beta1**n) for n, m in enumerate(moments, 1)],
        [E_g] * CHECK_STEPS,
    )
    squares = _recursion(v_rule, v_t, CHECK_STEPS, lambda n: sp.sqrt(E_g2))
    _checked(
        d,
        E_v,
        (1 - beta2**t) * E_g2,
        "unrolling (3); linearity of E; geometric series",
        "the same for v with β₂ and g² (for a constant gradient, E[g²] = g²)",
        squares,
        _at_steps((1 - beta2**t) * E_g2),
    )
    _checked(
        d,
        E_vhat,
        E_g2,
        "substitution",
        "(5): unbiased too; uncorrected, the first step would be (1 − β₁)/√(1 − β₂) ≈ 3.2 times the corrected one",
        [v / (1 - beta2**n) for n, v in enumerate(squares, 1)],
        [E_g2] * CHECK_STEPS,
    )
    first = Derivation.expand(w_t, d.defs).xreplace({t_prev: 0, m_prev: 0, v_prev: 0})
    step = d.add(
        w_t,
        w_prev - eta * g_t / (sp.Abs(g_t) + eps),
        "substitution",
        "at t = 1 (m_0 = v_0 = 0): a step of about η for every weight, whatever the gradient's size",
    )
    step.check = (first, w_prev - eta * g_t / (sp.Abs(g_t) + eps))
    d.section("The update in the previous values (what adam.update computes)")
    d.add(
        w_t,
        w_prev - eta * (m_rule / (1 - beta1**t)) / (sp.sqrt(v_rule / (1 - beta2**t)) + eps),
        "substitution",
        "(2)-(5) into (6), at any t",
    )
    return d
