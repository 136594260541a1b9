"""Each activation function and its derivative (symnn/ops/activations/); the rectifier's corner."""

from __future__ import annotations

import sympy as sp

from symnn import notation as N
from symnn.derive.derivation import DEFINITION, Derivation
from symnn.derive.rules import D
from symnn.derive.steps import differentiate
from symnn.derive.topics import topic
from symnn.derive.topics.references import NIELSEN
from symnn.ops.activations import ACTIVATIONS
from symnn.parse import records


@topic("activation", "each activation function and its derivative, step by step")
def activation(activation: str | None = None) -> Derivation:
    acts = [records.activation(activation)] if activation else list(ACTIVATIONS.values())
    d = Derivation("Activation functions and their derivatives", references=[NIELSEN])
    d.intro = "The derivative of φ is what back-propagation multiplies by at every neuron."
    for act in acts:
        d.section(f"{act.title} ({act.source})")
        phi = sp.Function("phi")
        d.add(phi(N.z), act.phi, DEFINITION, act.title)
        value = _derive_activation(d, act)
        course = value if act.course_derivative is None else act.course_derivative
        if value != course:
            d.add(D(act.phi, N.z), course, "rewriting", act.note)
        elif act.note:
            d.steps[-1].note = (d.steps[-1].note + "; " if d.steps[-1].note else "") + act.note
        d.goal(f"{act.source}'", act.phi, N.z, course, key=act.name)
    return d


def _derive_activation(d: Derivation, act) -> sp.Expr:
    """Differentiate φ as the course does: by its definition in elementary functions."""
    from symnn.ops.functions import elementary, sigmoid

    if act.phi.func is sigmoid:
        d.add(D(act.phi, N.z), D(1 / (1 + sp.exp(-N.z)), N.z), "definition", "σ(z) = 1/(1 + e^(−z))")
        differentiate(d, 1 / (1 + sp.exp(-N.z)), N.z, lhs=D(act.phi, N.z))
        d.add(D(act.phi, N.z), sp.exp(-N.z) / (1 + sp.exp(-N.z)) ** 2, "simplification", "")
        d.add(
            D(act.phi, N.z),
            1 / (1 + sp.exp(-N.z)) * (1 - 1 / (1 + sp.exp(-N.z))),
            "factoring",
            "e^(−z)/(1+e^(−z))² = 1/(1+e^(−z)) · e^(−z)/(1+e^(−z)) and e^(−z)/(1+e^(−z)) = 1 − σ(z)",
        )
        return act.course_derivative
    if act.phi.is_Function and act.phi.func.__module__.startswith("symnn"):
        pieces = elementary(act.phi)
        d.add(D(act.phi, N.z), D(pieces, N.z), "definition", "written piece by piece")
        differentiate(d, pieces, N.z, lhs=D(act.phi, N.z))
        return act.course_derivative
    return differentiate(d, act.phi, N.z)


@topic("relu", "the rectifier ReLU(z) = max(0, z): its derivative, and the sub-gradient 0 taken at z = 0")
def relu_topic() -> Derivation:
    from symnn.ops.functions import relu, step

    z, h = sp.Symbol("z", real=True), sp.Symbol("h", real=True)
    d = Derivation("The rectifier (ReLU) and its derivative", references=[NIELSEN])
    d.intro = (
        "A ReLU layer (step 1(b) of the CNN plan) applies ReLU(z) = max(0, z) to every value of the "
        "feature maps: negative values become 0. Its derivative is 1 for z > 0 and 0 for z < 0; at z = 0 "
        "there is a corner, and we must say which slope the backward pass uses."
    )
    d.add(relu(z), sp.Max(0, z), DEFINITION, "the rectifier")
    pw = sp.Piecewise((z, z > 0), (0, True))
    d.add(relu(z), pw, "rewriting", "max(0, z) is z for z > 0 and 0 otherwise")
    value = differentiate(d, pw, z, lhs=D(relu(z), z))
    d.steps[-1].note += ": slope 1 on the right, 0 on the left"
    del value
    d.section("The corner at z = 0")
    d.add(
        sp.Limit(relu(h) / h, h, 0, "+"), 1, "one-sided limit", "from the right, (ReLU(0 + h) − ReLU(0))/h = h/h = 1"
    ).check = (sp.limit(sp.Max(0, h) / h, h, 0, "+"), sp.S.One)
    d.add(
        sp.Limit(relu(h) / h, h, 0, "-"),
        0,
        "one-sided limit",
        "from the left, (ReLU(0 + h) − ReLU(0))/h = 0/h = 0: the two slopes differ, so ReLU has no derivative at 0",
    ).check = (sp.limit(sp.Max(0, h) / h, h, 0, "-"), sp.S.Zero)
    d.add(
        D(sp.Max(0, z), z),
        sp.Heaviside(z),
        "known derivative",
        "SymPy's answer is the Heaviside step, with Heaviside(0) = 1/2 — a value that neither side has",
    )
    d.add(
        D(relu(z), z),
        step(z),
        "sub-gradient",
        "every slope between 0 and 1 is a sub-gradient at the corner (a line through (0, 0) below the graph). "
        "symnn takes 0, as PyTorch does: ReLU'(z) = step(z), 1 for z > 0 and 0 for z ≤ 0. Stated plainly: "
        "at z = 0 the backward pass passes no error through (relu.backward: δ·(1 if z > 0 else 0))",
    )
    d.goal("ReLU'(z)", relu(z), z, step(z))
    return d
