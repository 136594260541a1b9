"""Gradient descent (the kernel sgd.update): the update w ← w − η ∂C/∂w, batch and stochastic."""

from __future__ import annotations

import sympy as sp

from symnn import notation as N
from symnn.derive.derivation import DEFINITION, Derivation
from symnn.derive.rules import D
from symnn.derive.topics import derive, topic
from symnn.derive.topics.costs import N_ROWS
from symnn.derive.topics.references import NIELSEN, TRASK


@topic("gradient-descent", "the update w ← w − η ∂C/∂w in batch and stochastic form")
def gradient_descent(activation: str = "sigmoid", cost: str = "quadratic") -> Derivation:
    base = derive("cost", activation=activation, cost=cost, verify=False)
    d = Derivation("Gradient descent: batch and stochastic updates", references=[NIELSEN, TRASK])
    d.intro = (
        "Gradient descent moves every weight a small step η against its gradient. Batch "
        "gradient descent sums the gradient over the whole table before one update; "
        "stochastic gradient descent updates after every single row."
    )
    w1, eta = N.w(1), N.eta
    w_new = sp.Symbol("w_1'", real=True)
    row_goal, batch_goal = base.goals[0], base.goals[-1]
    sections = [
        (
            "Stochastic gradient descent (one row, one update)",
            row_goal,
            f"one update per row: {N_ROWS} updates per pass over the table",
        ),
        (
            f"Batch gradient descent (all {N_ROWS} rows, one update)",
            batch_goal,
            "the gradient summed over every row, then a single step: 1 update per pass over the table",
        ),
    ]
    for title, goal, note in sections:
        d.section(title)
        batch = goal is batch_goal
        for lhs, rhs in goal.defs.items():
            if not batch or isinstance(lhs, sp.Indexed) or lhs == N.C:
                d.add(lhs, rhs, DEFINITION, "as in the `cost` derivation")
        d.add(w_new, w1 - eta * D(N.C, w1), DEFINITION, "step against the slope, scaled by the learning rate η")
        d.add(w_new, w1 - eta * goal.result, "substitution", note)
        d.goals.append(goal)
    return d
