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
from symnn.ops.activations import ACTIVATIONS

tau = sp.Symbol("tau", positive=True)
a, E = sp.IndexedBase("a", positive=True), sp.IndexedBase("E", positive=True)
j, k = sp.symbols("j k", integer=True, positive=True)
n_out = sp.Symbol("n_out", integer=True, positive=True)  # the network's outputs


@dataclass(frozen=True)
class Cost:
    name: str
    title: str
    term: Callable[[sp.Expr, sp.Expr], sp.Expr]  # one output's contribution c(a_j, E_j)
    course_gradient: sp.Expr  # ∂C/∂a_k as the list writes it (may use C)
    note: str
    outer: Callable[[sp.Expr], sp.Expr] = lambda s: s  # C = outer(Σ_j term); exp for exponential
    domain: str = "real"  # where the outputs a must lie: "real", "positive" (a > 0) or "unit" (0 < a < 1)
    reference: str = "CrossValidated (2015), “A list of cost functions used in neural networks, alongside applications”"

    def total(self) -> sp.Expr:
        """C over n_out outputs in index notation."""
        return self.outer(sp.Sum(self.term(a[j], E[j]), (j, 1, n_out)))

    def single(self, yhat: sp.Expr, y: sp.Expr) -> sp.Expr:
        """C for one output: the perceptron's cost."""
        return self.outer(self.term(yhat, y))


def _cost(name, title, term, grad, note, outer=None, domain="real") -> Cost:
    return Cost(name, title, term, grad, note, outer or (lambda s: s), domain=domain)


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
    ]
}


def get_cost(name: str) -> Cost:
    key = name.lower().replace("_", "-")
    key = {"mse": "quadratic", "ce": "cross-entropy", "bce": "cross-entropy"}.get(key, key)
    if key not in COSTS:
        raise unknown("cost", name, COSTS)
    return COSTS[key]


# The activation output ranges (Activation.outputs) each cost domain accepts; "real" takes any.
_ACCEPTS = {"positive": {"unit", "positive"}, "unit": {"unit"}}
_DOMAIN_TEXT = {"unit": "strictly between 0 and 1", "positive": "strictly positive", "real": "real"}


def compatible(activation: str, cost: str) -> bool:
    """Can this activation's output feed this cost (no log(0), no √ of a negative)?"""
    domain = COSTS[cost].domain
    return domain == "real" or ACTIVATIONS[activation].outputs in _ACCEPTS[domain]


def check_compatible(activation: str, cost: str) -> None:
    if not compatible(activation, cost):
        ok = sorted(a for a in ACTIVATIONS if compatible(a, cost))
        raise InputError(
            f"the {cost} cost needs outputs {_DOMAIN_TEXT[COSTS[cost].domain]}, but "
            f"{activation} gives values in {ACTIVATIONS[activation].outputs}; with {cost} "
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
