"""Cost functions: the lecture's quadratic cost and the CrossValidated (2015) list.

Notation of that list: a = the network's output, E = the expected (target) value; with several
outputs the cost sums over j = 1..n_out. Each cost gives its per-output term, its total over n_out
outputs (index notation) and the gradient ∂C/∂a_k as the list writes it — which symnn's
derivation must reproduce.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from symnn.errors import InputError, unknown
from symnn.notation import C  # the cost: one Symbol in every module
from symnn.ops import params
from symnn.ops.activations import ACTIVATIONS, get_activation

tau = sp.Symbol("tau", positive=True)
delta, beta, gamma = sp.symbols("delta beta gamma", positive=True)  # Huber's δ, smooth L1's β, focal's γ
a, E = sp.IndexedBase("a", positive=True), sp.IndexedBase("E", positive=True)
j, k = sp.symbols("j k", integer=True, positive=True)
n_out = sp.Symbol("n_out", integer=True, positive=True)  # the network's outputs


@dataclass(frozen=True)
class Cost:
    name: str
    title: str
    term: Callable[[sp.Expr, sp.Expr], sp.Expr]  # one output's contribution c(a_j, E_j)
    course_gradient: sp.Expr | None  # ∂C/∂a_k as the list writes it (may use C); None: as derived
    note: str
    outer: Callable[[sp.Expr], sp.Expr] = lambda s: s  # C = outer(Σ_j term); exp for exponential
    domain: str = "real"  # where the outputs a must lie: "real", "positive" (a > 0) or "unit" (0 < a < 1)
    reference: str = "CrossValidated (2015), “A list of cost functions used in neural networks, alongside applications”"
    params: params.Params = ()  # (Symbol, default) of each parameter, as in the term
    source: str = ""  # the text that makes this record again (its name, `huber(delta=0.5)`, an expression)

    def __post_init__(self) -> None:
        if not self.source:
            object.__setattr__(self, "source", self.name)

    def total(self) -> sp.Expr:
        """C over n_out outputs in index notation."""
        return self.outer(sp.Sum(self.term(a[j], E[j]), (j, 1, n_out)))

    def single(self, yhat: sp.Expr, y: sp.Expr) -> sp.Expr:
        """C for one output: the perceptron's cost."""
        return self.outer(self.term(yhat, y))


def _cost(name, title, term, grad, note, outer=None, domain="real", reference=None, params=()) -> Cost:
    more = {"reference": reference} if reference else {}
    return Cost(name, title, term, grad, note, outer or (lambda s: s), domain=domain, params=params, **more)


PYTORCH = "PyTorch, torch.nn.functional (the definitions symnn's tests compare with)"


@dataclass(frozen=True)
class Term:
    """c(a, E) of a cost written as one expression in an output and a target Symbol."""

    expr: sp.Expr
    output: sp.Symbol
    target: sp.Symbol

    def __call__(self, a_: sp.Expr, e: sp.Expr) -> sp.Expr:
        return self.expr.xreplace({self.output: a_, self.target: e})


_u, _v = sp.symbols("u v", real=True)  # the output and the target in the terms of the costs below


COSTS: dict[str, Cost] = {
    c.name: c
    for c in [
        _cost(
            "quadratic",
            "Quadratic cost",
            lambda a_, e: sp.Rational(1, 2) * (a_ - e) ** 2,
            a[k] - E[k],
            "the lecture's C = Σ ½(ŷ − y)²; also called mean squared error",
        ),
        _cost(
            "cross-entropy",
            "Cross-entropy cost (binary)",
            lambda a_, e: -(e * sp.log(a_) + (1 - e) * sp.log(1 - a_)),
            (a[k] - E[k]) / ((1 - a[k]) * a[k]),
            "for outputs in (0, 1); with a sigmoid output the σ' factor cancels",
            domain="unit",
        ),
        _cost(
            "categorical-cross-entropy",
            "Categorical cross-entropy",
            lambda a_, e: -e * sp.log(a_),
            -E[k] / a[k],
            "for a probability vector a (softmax output) and a one-hot E",
            domain="unit",
        ),
        _cost(
            "exponential",
            "Exponential cost",
            lambda a_, e: (a_ - e) ** 2,
            2 / tau * (a[k] - E[k]) * C,
            "τ exp((1/τ) Σ (a − E)²); τ sets how sharply large errors are punished",
            outer=lambda s: tau * sp.exp(s / tau),
        ),
        _cost(
            "hellinger",
            "Hellinger distance",
            lambda a_, e: (sp.sqrt(a_) - sp.sqrt(e)) ** 2 / sp.sqrt(2),
            (sp.sqrt(a[k]) - sp.sqrt(E[k])) / (sp.sqrt(2) * sp.sqrt(a[k])),
            "for positive outputs, e.g. probabilities",
            domain="positive",
        ),
        _cost(
            "kl",
            "Kullback–Leibler divergence",
            lambda a_, e: e * sp.log(e / a_),
            -E[k] / a[k],
            "for probability distributions a and E",
            domain="positive",
        ),
        _cost(
            "generalized-kl",
            "Generalized Kullback–Leibler divergence",
            lambda a_, e: e * sp.log(e / a_) - e + a_,
            (a[k] - E[k]) / a[k],
            "KL for positive vectors that need not sum to 1",
            domain="positive",
        ),
        _cost(
            "itakura-saito",
            "Itakura–Saito distance",
            lambda a_, e: e / a_ - sp.log(e / a_) - 1,
            (a[k] - E[k]) / a[k] ** 2,
            "scale-invariant: used for spectra",
            domain="positive",
        ),
        _cost(
            "mae",
            "Mean absolute error (L1)",
            lambda a_, e: sp.Abs(a_ - e),
            sp.sign(a[k] - E[k]),
            "|a − E|: robust to outliers; at a = E symnn takes the sub-gradient sign(0) = 0, as PyTorch's l1_loss",
            reference=PYTORCH,
        ),
        _cost(
            "huber",
            "Huber loss",
            Term(
                sp.Piecewise(
                    ((_u - _v) ** 2 / 2, sp.Abs(_u - _v) < delta), (delta * (sp.Abs(_u - _v) - delta / 2), True)
                ),
                _u,
                _v,
            ),
            sp.Piecewise((a[k] - E[k], sp.Abs(a[k] - E[k]) < delta), (delta * sp.sign(a[k] - E[k]), True)),
            "quadratic within δ of the target, linear beyond: the gradient is the error, clipped to ±δ",
            reference=PYTORCH,
            params=((delta, sp.Integer(1)),),
        ),
        _cost(
            "smooth-l1",
            "Smooth L1 loss",
            Term(
                sp.Piecewise(((_u - _v) ** 2 / (2 * beta), sp.Abs(_u - _v) < beta), (sp.Abs(_u - _v) - beta / 2, True)),
                _u,
                _v,
            ),
            sp.Piecewise(((a[k] - E[k]) / beta, sp.Abs(a[k] - E[k]) < beta), (sp.sign(a[k] - E[k]), True)),
            "Huber's loss divided by β: quadratic within β, then |a − E| − β/2",
            reference=PYTORCH,
            params=((beta, sp.Integer(1)),),
        ),
        _cost(
            "log-cosh",
            "Log-cosh loss",
            lambda a_, e: sp.log(sp.cosh(a_ - e)),
            sp.tanh(a[k] - E[k]),
            "ln cosh(a − E) is about (a − E)²/2 for small errors and |a − E| − ln 2 for large ones",
        ),
        _cost(
            "hinge",
            "Hinge loss",
            lambda a_, e: sp.Max(0, 1 - e * a_),
            sp.Piecewise((-E[k], E[k] * a[k] < 1), (0, True)),
            "for targets E = ±1: max(0, 1 − E a) is 0 once the output has the right sign with margin 1",
        ),
        _cost(
            "squared-hinge",
            "Squared hinge loss",
            lambda a_, e: sp.Max(0, 1 - e * a_) ** 2,
            -2 * E[k] * sp.Max(0, 1 - E[k] * a[k]),
            "the hinge squared: differentiable at the margin, for targets E = ±1",
        ),
        _cost(
            "bce-with-logits",
            "Binary cross-entropy with logits",
            lambda a_, e: sp.log(1 + sp.exp(a_)) - e * a_,
            1 / (1 + sp.exp(-a[k])) - E[k],
            "the cross-entropy of σ(a) written in the logit a itself: ln(1 + e^a) − E a, whose gradient is "
            "σ(a) − E (end the net without a sigmoid)",
            reference=PYTORCH,
        ),
        _cost(
            "focal",
            "Focal loss (binary)",
            Term(-(_v * (1 - _u) ** gamma * sp.log(_u) + (1 - _v) * _u**gamma * sp.log(1 - _u)), _u, _v),
            E[k] * (gamma * (1 - a[k]) ** (gamma - 1) * sp.log(a[k]) - (1 - a[k]) ** gamma / a[k])
            + (1 - E[k]) * (a[k] ** gamma / (1 - a[k]) - gamma * a[k] ** (gamma - 1) * sp.log(1 - a[k])),
            "Lin et al. (2017): the cross-entropy with each term weighted by (1 − p_t)^γ, so examples already "
            "classified well count less; γ = 0 is the cross-entropy",
            domain="unit",
            reference="Lin, Goyal, Girshick, He, Dollár (2017), “Focal loss for dense object detection”",
            params=((gamma, sp.Integer(2)),),
        ),
        _cost(
            "poisson-nll",
            "Poisson negative log-likelihood",
            lambda a_, e: sp.exp(a_) - e * a_,
            sp.exp(a[k]) - E[k],
            "for counts E with the output a the log of the rate (PyTorch's log_input=True): e^a − E a, "
            "dropping the constant ln E!",
            reference=PYTORCH,
        ),
    ]
}
MADE: dict[str, Cost] = {}  # records made in this process (bound ones, users' expressions), by name
ALIASES = {"mse": "quadratic", "ce": "cross-entropy", "bce": "cross-entropy", "l1": "mae", "smoothl1": "smooth-l1"}


def _with(record: Cost, values: dict[sp.Symbol, sp.Expr], **changes) -> Cost:
    from dataclasses import replace

    term, grad = record.term, record.course_gradient
    return replace(
        record,
        term=lambda a_, e: term(a_, e).xreplace(values),
        course_gradient=grad.xreplace(values) if grad is not None else None,
        params=(),
        **changes,
    )


def _key(name: str) -> str:
    key = name.strip().lower().replace("_", "-")
    return ALIASES.get(key, key)


def get_cost(name: str) -> Cost:
    """A cost by name (any case, '_' or '-', the aliases mse, bce, l1, ...) with its parameters'
    defaults, or one made in this process."""
    if name in MADE:
        return MADE[name]
    key = _key(name)
    if key not in COSTS:
        raise unknown("cost", name, COSTS)
    record = COSTS[key]
    return bound(key, {}) if record.params else record


def remember(record: Cost) -> Cost:
    return MADE.setdefault(record.name, record)


def bound(name: str, values: dict[str, sp.Expr]) -> Cost:
    """The cost `name` with the given parameter values (the others keep their defaults)."""
    key = _key(name)
    if key not in COSTS:
        raise unknown("cost", name, COSTS)
    template = COSTS[key]
    return params.bind(
        "cost",
        template,
        values,
        MADE,
        _with,
        lambda: MADE.get(key) or remember(_with(template, {s: v for s, v in template.params})),
    )


# The activation output ranges (Activation.outputs) each cost domain accepts; "real" takes any.
_ACCEPTS = {"positive": {"unit", "positive"}, "unit": {"unit"}}
_DOMAIN_TEXT = {"unit": "strictly between 0 and 1", "positive": "strictly positive", "real": "real"}


def compatible(activation: str, cost: str) -> bool:
    """Can this activation's output feed this cost (no log(0), no √ of a negative)?"""
    domain = get_cost(cost).domain
    return domain == "real" or get_activation(activation).outputs in _ACCEPTS[domain]


def check_compatible(activation: str, cost: str) -> None:
    if not compatible(activation, cost):
        act, cst = get_activation(activation), get_cost(cost)
        ok = sorted(a for a in ACTIVATIONS if compatible(a, cost))
        raise InputError(
            f"the {cst.source} cost needs outputs {_DOMAIN_TEXT[cst.domain]}, but "
            f"{act.source} gives values in {act.outputs}; with {cst.source} "
            f"use one of: {', '.join(ok)}"
        )


# -- the binary cross-entropy of a sigmoid output, from its logit z (stable) -------------------
zl, yl = sp.symbols("z y", real=True)
n_batch = sp.Symbol("N", positive=True)  # the batch a mean cost averages over


def softplus_form(z: sp.Expr, y: sp.Expr) -> sp.Expr:
    """−[y ln σ(z) + (1 − y) ln(1 − σ(z))] = ln(1 + e^z) − y z."""
    return sp.log(1 + sp.exp(z)) - y * z


def stable_form(z: sp.Expr, y: sp.Expr) -> sp.Expr:
    """The same, never overflowing: max(z, 0) − y z + ln(1 + e^(−|z|))."""
    return sp.Max(z, 0) - y * z + sp.log(1 + sp.exp(-sp.Abs(z)))
