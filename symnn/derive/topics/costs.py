"""Costs (symnn/ops/costs.py): the perceptron's ∂C/∂w, the table of cost functions, the stable
sigmoid cross-entropy."""

from __future__ import annotations

import sympy as sp

from symnn import notation as N
from symnn.derive.derivation import DEFINITION, Derivation
from symnn.derive.rules import D
from symnn.derive.steps import differentiate
from symnn.derive.tidy import tidy
from symnn.derive.topics import topic
from symnn.derive.topics.neuron import perceptron
from symnn.derive.topics.references import CROSSVALIDATED, GOODFELLOW, NIELSEN, TRASK
from symnn.ops.costs import COSTS, Cost, check_compatible, get_cost
from symnn.parse import records

STUDY_INPUTS = ("Study Hrs", "Sleep Hrs", "Quiz")
N_ROWS = 8  # rows of the lecture's table


@topic("cost", "∂C/∂w_1, ∂C/∂w_2, ∂C/∂w_3, ∂C/∂b for the lecture's perceptron (one row, then all 8 rows)")
def cost(activation: str = "sigmoid", cost: str = "quadratic") -> Derivation:
    act, cst = records.activation(activation), records.cost(cost)
    check_compatible(act.name, cst.name)
    xs, ws, z_expr = perceptron(3)
    z, yhat, y, C = N.z, N.yhat, N.y, N.C
    d = Derivation(
        f"How the perceptron learns: the gradient of the {cst.title.lower()}",
        references=[NIELSEN, TRASK, CROSSVALIDATED],
    )
    d.intro = (
        "Inputs: "
        + ", ".join(f"x_{i} = {name}" for i, name in enumerate(STUDY_INPUTS, 1))
        + "; output: ŷ, the predicted Exam score, compared with the actual y. To "
        "“adjust w_1, w_2, w_3” we need how the cost C changes with each weight."
    )
    d.section("One row of the table")
    d.add(z, z_expr, DEFINITION, "the weighted sum of the three inputs plus the bias")
    d.add(yhat, act.phi, DEFINITION, f"the prediction, φ = {act.title.lower()}")
    c_row = cst.single(yhat, y)
    d.add(C, c_row, DEFINITION, f"the {cst.title.lower()} of one row")
    full = c_row.xreplace({yhat: act.phi}).xreplace({z: z_expr})

    dC_dyhat: sp.Expr | None = None  # derived once, at the first weight
    dyhat_dz: sp.Expr | None = None
    for var in (*ws, N.b):
        d.section(f"∂C/∂{sp.sstr(var)}")
        chain = D(C, yhat) * D(yhat, z) * D(z, var)
        d.add(D(C, var), chain, "chain rule", "C depends on the weight only through ŷ, and ŷ only through z")
        if dC_dyhat is None:
            dC_dyhat = differentiate(d, c_row, yhat, lhs=D(C, yhat))
            dyhat_dz = differentiate(d, act.phi, z, lhs=D(yhat, z))
        dz = differentiate(d, z_expr, var, lhs=D(z, var))
        local = tidy(dC_dyhat * dyhat_dz * dz)
        d.add(D(C, var), local, "substitution", "multiply the three factors")
        in_inputs = local.xreplace({yhat: act.phi}).xreplace({z: z_expr})
        d.add(D(C, var), in_inputs, "substitution", "the same in terms of the inputs, weights and bias")
        d.goal(f"∂C/∂{sp.sstr(var)}", full, var, in_inputs)

    d.section(f"All {N_ROWS} rows of the table (batch form)")
    r = N.r
    X = [sp.IndexedBase(f"x_{i}", real=True) for i in (1, 2, 3)]
    Z, YH, Y = sp.IndexedBase("z", real=True), sp.IndexedBase("yhat", real=True), sp.IndexedBase("y", real=True)
    z_r = sp.Add(*[w * x[r] for w, x in zip(ws, X)]) + N.b
    d.add(Z[r], z_r, DEFINITION, "row r's weighted sum")
    d.add(YH[r], act.phi.xreplace({z: Z[r]}), DEFINITION, "row r's prediction")
    C_batch = sp.Sum(cst.single(YH[r], Y[r]), (r, 1, N_ROWS))
    d.add(C, C_batch, DEFINITION, f"the cost summed over the {N_ROWS} rows: one number for the whole table")
    w1 = ws[0]
    d.add(
        D(C, w1), sp.Sum(D(cst.single(YH[r], Y[r]), w1), (r, 1, N_ROWS)), "linearity of Σ", "differentiate row by row"
    )
    assert dC_dyhat is not None and dyhat_dz is not None  # the loop above ran
    per_row = local_w1 = tidy(dC_dyhat * dyhat_dz * xs[0])
    per_row = per_row.xreplace({yhat: YH[r], y: Y[r], z: Z[r], xs[0]: X[0][r]})
    d.add(
        D(cst.single(YH[r], Y[r]), w1),
        per_row,
        "same as one row",
        "each row contributes exactly what the one-row derivation found, with that row's values",
    )
    batch = sp.Sum(per_row, (r, 1, N_ROWS))
    d.add(D(C, w1), batch, "substitution", "sum the rows' contributions: one update uses the whole table")
    batch = batch.xreplace({YH[r]: act.phi.xreplace({z: Z[r]})}).xreplace({Z[r]: z_r})
    d.add(D(C, w1), batch, "substitution", "the same in terms of the inputs, weights and bias")
    full_batch = sp.Sum(cst.single(act.phi.xreplace({z: z_r}), Y[r]), (r, 1, N_ROWS))
    d.goal("∂C/∂w_1 (batch)", full_batch, w1, batch)
    del local_w1
    return d


@topic(
    "cost-functions",
    "the table of cost functions and their gradients (CrossValidated, 2015); --cost NAME for one, --cost all "
    "for every cost symnn has",
)
def cost_functions(cost: str | None = None) -> Derivation:
    from symnn.ops.costs import C, a, k, n_out

    if cost == "all":
        names = list(COSTS)
    elif cost:
        names = [records.cost(cost).name]
    else:
        names = [n for n, c in COSTS.items() if c.reference == Cost.reference]  # the list of 2015
    d = Derivation("Cost functions and their gradients", references=[CROSSVALIDATED])
    d.intro = (
        "a is the network's output and E the expected value, summed over the n_out outputs; "
        "each gradient ∂C/∂a_k is derived step by step and compared with the list's."
    )
    d.check_subs = {n_out: 3, k: 2}
    for name in names:
        cst = get_cost(name)
        d.section(f"{cst.title} ({cst.source})")
        d.add(C, cst.total(), DEFINITION, cst.note)
        value = differentiate(d, cst.total(), a[k], lhs=D(C, a[k]))
        course = value if cst.course_gradient is None else cst.course_gradient
        if course != value:
            form = "the form the list gives" if cst.reference == Cost.reference else "the form a textbook gives"
            d.add(D(C, a[k]), course, "rewriting", form)
        d.goal(f"∂C/∂a_k ({cst.name})", cst.total(), a[k], course.xreplace({C: cst.total()}), key=cst.name)
    return d


def _at(points, expr, var) -> sp.Matrix:
    """expr at each of the exact points var = p: a check that also covers negative values."""
    return sp.Matrix([expr.xreplace({var: p}) for p in points])


@topic(
    "sigmoid-cross-entropy",
    "the binary cross-entropy of a sigmoid output, from the logit: "
    "max(z, 0) − y z + ln(1 + e^(−|z|)) and its gradient σ(z) − y",
)
def sigmoid_cross_entropy() -> Derivation:
    from symnn.ops import costs as op
    from symnn.ops.functions import sigmoid

    z, y, a, C = op.zl, op.yl, sp.Symbol("a", real=True), N.C
    d = Derivation(
        "The cross-entropy of a sigmoid output, computed from z: finite for every z", references=[NIELSEN, GOODFELLOW]
    )
    d.intro = (
        "With a = σ(z) and the cross-entropy C = −[y ln a + (1 − y) ln(1 − a)], a float64 σ(z) "
        "rounds to 0 below z ≈ −745 and to 1 above z ≈ 37, and ln 0 = −∞: the loss of a confidently "
        "wrong output becomes inf, though its true value is about |z|. Written in z itself the loss "
        "never takes the log of a rounded probability."
    )
    d.add(a, sigmoid(z), DEFINITION, "the sigmoid output of the last layer, z its weighted input (the logit)")
    d.add(C, -(y * sp.log(a) + (1 - y) * sp.log(1 - a)), DEFINITION, "the binary cross-entropy of one output")
    t = sp.exp(-z)
    d.section("The loss in terms of z")
    d.add(sp.log(sigmoid(z)), -sp.log(1 + t), "logarithm of a quotient", "σ(z) = 1/(1 + e^(−z))")
    d.add(
        sp.log(1 - sigmoid(z)),
        -z - sp.log(1 + t),
        "logarithm of a quotient",
        "1 − σ(z) = e^(−z)/(1 + e^(−z)), and ln e^(−z) = −z",
    )
    d.add(C, y * sp.log(1 + t) + (1 - y) * (z + sp.log(1 + t)), "substitution", "put both logs into C")
    d.add(
        C,
        op.softplus_form(z, y),
        "logarithm of a product",
        "collect: ln(1 + e^(−z)) + z = ln(e^z (1 + e^(−z))) = ln(1 + e^z), so C = softplus(z) − y z",
    )
    pts = [
        sp.Integer(-800),
        sp.Integer(-3),
        sp.Rational(-1, 2),
        sp.Integer(0),
        sp.Rational(1, 2),
        sp.Integer(3),
        sp.Integer(800),
    ]
    stable = op.stable_form(z, y)
    d.add(
        op.softplus_form(z, y),
        stable,
        "case analysis",
        "for z > 0: ln(1 + e^z) = z + ln(1 + e^(−z)); for z ≤ 0 it is ln(1 + e^z) as it stands. Both are "
        "max(z, 0) + ln(1 + e^(−|z|)): the exponent is never positive, so e^(−|z|) ≤ 1 cannot overflow and "
        "the log's argument lies in (1, 2]; checked exactly at z = −800, −3, −½, 0, ½, 3, 800. At z = −800, "
        "y = 1: C = 800 + ln(1 + e^(−800)) ≈ 800, where ln σ(−800) in float64 is ln 0 = −∞",
    ).check = (_at(pts, op.softplus_form(z, y), z), _at(pts, stable, z))
    d.section("Its gradient")
    value = differentiate(d, op.softplus_form(z, y), z, lhs=D(C, z))
    d.add(D(C, z), sigmoid(z) - y, "substitution", "e^z/(1 + e^z) = 1/(1 + e^(−z)) = σ(z)").check = (
        value,
        sigmoid(z) - y,
    )
    d.goal("∂C/∂z", -(y * sp.log(sigmoid(z)) + (1 - y) * sp.log(1 - sigmoid(z))), z, sigmoid(z) - y, "dz")
    d.steps[-1].note += (
        ": the prediction minus the target, the σ'(z) of BP1 cancelled. Over a batch of N "
        "the mean loss gives (σ(z) − y)/N (kernel sigmoid_cross_entropy.grad, with σ in its "
        "stable form); the loss is the kernel sigmoid_cross_entropy.loss"
    )
    return d
