"""The optimizers' update kernels, from `symnn derive optimizer --optimizer NAME`:

    momentum.update(w, g, v, eta, mu)                       -> w_new, v_new
    nesterov.update(w, g, v, eta, mu)                       -> w_new, v_new
    rmsprop.update(w, g, square_avg, eta, alpha, eps)       -> w_new, square_avg_new
    adam.update(w, g, m, v, eta, beta1, beta2, eps, step)   -> w_new, m_new, v_new
    adam.count(step)                                        -> step_new   (step ← step + 1)

Each output is the derivation's rule for that quantity (optimizers.update_rules, by key) in the
previous values; the rule's symbols become the kernel's arguments, named as PyTorch's optimizers
name their state (`square_avg`: RMSProp's running mean of g², the derivation's s; `step`: Adam's
update count, the derivation's t — s is the stride and t the sample elsewhere in symnn). Every kernel reads an
element's inputs before it writes its outputs, so the outputs may be the inputs (in place).
SGD's update is sgd.update (symnn/kernels/sgd.py, from `symnn derive gradient-descent`)."""

from __future__ import annotations

import sympy as sp

from symnn.codegen import KernelSpec, elementwise, register
from symnn.derive.topics import optimizers as rules
from symnn.kernels import derived

w, g, v, m, eta, mu, alpha, beta1, beta2, eps = sp.symbols("w g v m eta mu alpha beta1 beta2 eps", real=True)
square_avg, step = sp.symbols("square_avg step", real=True)
STATE = {"w": w, "v": v, "s": square_avg, "m": m, "t": step}  # a rule's key -> the kernel's argument
HYPER = {"lr": eta, "mu": mu, "alpha": alpha, "beta1": beta1, "beta2": beta2, "eps": eps}


def derived_rules(optimizer: str) -> dict[str, sp.Expr]:
    """The update rules of the verified derivation, in the kernels' argument symbols."""
    d = derived("optimizer", optimizer=optimizer)
    subs = {rules.g_t: g, rules.t: step}
    subs.update({rules.PREVIOUS[new]: STATE[key] for key, new in rules.STATE[optimizer].items()})
    subs.update({sym: HYPER[name] for name, sym in rules.HYPER.items()})
    return {key: rule.xreplace(subs) for key, rule in rules.update_rules(d, optimizer).items()}


def _update(optimizer: str, state: list[str], hyper: list[str], doc: str) -> KernelSpec:
    r = derived_rules(optimizer)
    args = [w, g, *(STATE[k] for k in state), *(HYPER[h] for h in hyper)]
    if optimizer == "adam":
        args.append(step)
    return elementwise(
        f"{optimizer}.update",
        args=args,
        exprs=[r["w"], *(r[k] for k in state)],
        outputs=["w_new", *(f"{STATE[k]}_new" for k in state)],
        doc=doc,
    )


@register("momentum.update")
def momentum() -> KernelSpec:
    return _update("momentum", ["v"], ["lr", "mu"], "v ← μ v + g; w ← w − η v (torch.optim.SGD, momentum μ)")


@register("nesterov.update")
def nesterov() -> KernelSpec:
    return _update("nesterov", ["v"], ["lr", "mu"], "v ← μ v + g; w ← w − η (g + μ v) (torch.optim.SGD, nesterov)")


@register("rmsprop.update")
def rmsprop() -> KernelSpec:
    return _update(
        "rmsprop",
        ["s"],
        ["lr", "alpha", "eps"],
        "square_avg ← α square_avg + (1 − α) g²; w ← w − η g/(√square_avg + ε) (torch.optim.RMSprop)",
    )


@register("adam.update")
def adam() -> KernelSpec:
    return _update(
        "adam",
        ["m", "v"],
        ["lr", "beta1", "beta2", "eps"],
        "m ← β1 m + (1 − β1) g; v ← β2 v + (1 − β2) g²; w ← w − η m̂/(√v̂ + ε), m̂ = m/(1 − β1^step), "
        "v̂ = v/(1 − β2^step) (torch.optim.Adam)",
    )


@register("adam.count")
def adam_count() -> KernelSpec:
    rule = derived_rules("adam")["t"]
    return elementwise(
        "adam.count", args=[step], exprs=[rule], outputs=["step_new"], doc="step ← step + 1: the update's number"
    )
