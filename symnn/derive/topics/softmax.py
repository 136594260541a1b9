"""Softmax with cross-entropy (symnn/ops/softmax.py): ∂ℓ/∂z_i = ŷ_i − y_i, and the stable forward
(kernels: symnn/kernels/softmax.py)."""

from __future__ import annotations

import sympy as sp

from symnn.derive.derivation import DEFINITION, Derivation
from symnn.derive.rules import D
from symnn.derive.steps import differentiate
from symnn.derive.topics import named, topic
from symnn.derive.topics.references import GOODFELLOW, NIELSEN


def softmax_symbols():
    """z (logits), ŷ (probabilities), y (targets) and the index i of the derivative."""
    z, yh, y = (sp.IndexedBase(name, real=True) for name in ("z", "yhat", "y"))
    return z, yh, y, sp.Symbol("i", integer=True)


@topic(
    "softmax-cross-entropy",
    "softmax with cross-entropy: ∂L/∂z_i = ŷ_i − y_i through the softmax Jacobian; the stable forward",
)
def softmax_cross_entropy() -> Derivation:
    from symnn.ops.functions import indicator, step

    z, yh, y, i = softmax_symbols()
    jj, kk = sp.symbols("j k", integer=True)
    n = sp.Symbol("n_classes", integer=True, positive=True)
    ell, Msym = named("ℓ", r"\ell"), sp.Symbol("M", real=True)
    d = Derivation(
        "Softmax and cross-entropy: the gradient ŷ − y, and a forward pass that never overflows",
        references=[GOODFELLOW, NIELSEN],
    )
    d.intro = (
        "The last layer's n_classes outputs z (the logits, one per class) become probabilities with the "
        "softmax; the loss of "
        "a sample whose targets y are one-hot (or any probabilities summing to 1) is the cross-entropy. "
        "Their combined derivative is remarkably simple: ŷ − y."
    )
    S = sp.Sum(sp.exp(z[kk]), (kk, 0, n - 1))
    softmax = sp.exp(z[jj]) / S
    d.add(yh[jj], softmax, DEFINITION, "the softmax: positive numbers that sum to 1")
    ce = -sp.Sum(y[jj] * sp.log(yh[jj]), (jj, 0, n - 1))
    d.add(ell, ce, DEFINITION, "the cross-entropy of one sample")
    # the targets sum to 1: in the checks, the last one is 1 minus the others
    d.check_subs = {n: 3, i: 1, jj: 2, sp.Symbol("m", integer=True): 0, y[2]: 1 - y[0] - y[1]}

    d.section("The softmax Jacobian")
    jac = differentiate(d, softmax, z[i], lhs=D(yh[jj], z[i]))
    d.add(
        D(yh[jj], z[i]),
        yh[jj] * (sp.KroneckerDelta(i, jj) - yh[i]),
        "substitution",
        "recognise ŷ_j = e^(z_j)/Σ_k e^(z_k) and ŷ_i: ∂ŷ_j/∂z_i = ŷ_j(δ_ij − ŷ_i) — "
        "ŷ_i(1 − ŷ_i) on the diagonal, −ŷ_j ŷ_i off it",
    )
    del jac

    d.section("The cross-entropy's gradient with respect to the probabilities")
    mm = sp.Symbol("m", integer=True)
    d_ce = differentiate(d, ce, yh[mm], lhs=D(ell, yh[mm])).xreplace({mm: jj})

    d.section("The chain rule through the softmax")
    d.add(
        D(ell, z[i]),
        sp.Sum(D(ell, yh[jj]) * D(yh[jj], z[i]), (jj, 0, n - 1)),
        "chain rule",
        "z_i moves every ŷ_j (the denominator holds all of them), so sum over j",
    )
    d.add(
        D(ell, z[i]),
        sp.Sum(sp.Mul(d_ce, yh[jj] * (sp.KroneckerDelta(i, jj) - yh[i]), evaluate=False), (jj, 0, n - 1)),
        "substitution",
        "put in ∂ℓ/∂ŷ_j and the Jacobian",
    )
    d.add(
        D(ell, z[i]),
        sp.Sum(-y[jj] * (sp.KroneckerDelta(i, jj) - yh[i]), (jj, 0, n - 1)),
        "simplification",
        "ŷ_j cancels: −(y_j/ŷ_j)·ŷ_j = −y_j",
    )
    d.add(
        D(ell, z[i]),
        yh[i] * sp.Sum(y[jj], (jj, 0, n - 1)) - y[i],
        "Kronecker-delta collapse",
        "the δ_ij term keeps only j = i: −y_i; the other term is ŷ_i Σ_j y_j",
    )
    result = yh[i] - y[i]
    d.add(
        D(ell, z[i]),
        result,
        "substitution",
        "the targets sum to 1 (one-hot, or a probability distribution): ∂ℓ/∂z_i = ŷ_i − y_i, "
        "the prediction minus the target",
    )
    full = ce.xreplace({yh[jj]: softmax})
    d.goal("∂ℓ/∂z[i]", full, z[i], result, "dz")

    d.section("Over a batch")
    tt, Nb = sp.Symbol("t", integer=True), sp.Symbol("N", integer=True, positive=True)
    d.add(
        sp.Symbol("L"),
        sp.Sum(sp.IndexedBase(ell)[tt], (tt, 0, Nb - 1)) / Nb,
        DEFINITION,
        "the loss of a batch of N samples is the mean of the samples' losses ℓ[t]: each sample's gradient "
        "is divided by N, ∂L/∂z[t, i] = (ŷ[t, i] − y[t, i])/N (the kernel softmax_cross_entropy.grad)",
    )

    d.section("A forward pass that never overflows")
    log_softmax = z[jj] - Msym - sp.log(sp.Sum(sp.exp(z[kk] - Msym), (kk, 0, n - 1)))
    d.add(
        sp.log(yh[jj]),
        log_softmax,
        "log-sum-exp",
        "for any number M: e^(z_j)/Σ e^(z_k) = e^(z_j − M)/Σ e^(z_k − M); the log of the quotient is a "
        "difference, so log 0 never appears: the log-softmax, the kernel log_softmax.forward",
    )
    d.add(
        yh[jj],
        sp.exp(z[jj] - Msym) / sp.Sum(sp.exp(z[kk] - Msym), (kk, 0, n - 1)),
        "substitution",
        "the same shift inside the softmax",
    )
    d.add(
        ell,
        -sp.Sum(y[jj] * log_softmax, (jj, 0, n - 1)),
        "substitution",
        "the loss from the log-softmax, as the kernel softmax_cross_entropy.loss computes it: no log of a "
        "probability that rounded to 0, and M is never added only to be subtracted again",
    )
    uu = sp.Symbol("u", integer=True)
    earlier = step(kk - uu)
    beats = earlier * (1 - step(z[kk] - z[uu])) + (1 - earlier) * step(z[uu] - z[kk])
    d.add(
        Msym,
        sp.Sum(indicator(sp.Sum(beats, (uu, 0, n - 1)), 0) * z[kk], (kk, 0, n - 1)),
        DEFINITION,
        "choose M = the largest logit (the kernel softmax.row_max finds the row's first maximum as max pooling "
        "does): every exponent z_k − M is ≤ 0, so e^(z_k − M) ≤ 1 cannot overflow, and the term k = argmax "
        "is e^0 = 1, so the sum is ≥ 1 and its log is ≥ 0: finite for logits of any size",
    )
    d.defs.pop(Msym)
    return d
