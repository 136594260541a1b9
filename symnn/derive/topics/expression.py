"""A user's expression (`--expr`, `--wrt`): each partial derivative, or a higher one."""

from __future__ import annotations

import sympy as sp

from symnn.derive.derivation import DEFINITION, Derivation
from symnn.derive.forms import nn_form
from symnn.derive.steps import differentiate
from symnn.derive.topics import topic
from symnn.errors import InputError


@topic(
    "expression",
    "any expression you give: --expr 'x^2 exp(-x)' --wrt x (x,y: each partial; --wrt x --wrt x: the second derivative)",
)
def expression(expr: "str | sp.Expr" = None, wrt=None) -> Derivation:
    """d/dx of a user's expression. `wrt`: a name; "x,y" for each partial derivative; a list
    ["x", "x"] for a higher derivative, by each variable in turn."""
    from symnn.parse import parse

    if expr is None:
        raise InputError("topic 'expression' needs an expression (--expr 'x**2*exp(-x)')")
    if isinstance(expr, str):
        expr = parse(expr)
    elif not isinstance(expr, sp.Expr):
        raise InputError(f"the expression must be text or a SymPy expression, not {type(expr).__name__}")
    free = sorted(expr.free_symbols, key=str)
    partials, order = _variables(wrt, free)
    name = next(n for n in ("f", "g", "h", "F", "G", "f_0") if n not in {s.name for s in free})
    f = sp.Function(name)(*(free or partials))
    held = [s for s in free if s not in (*partials, *order)]
    d = Derivation(_title(expr, partials or order, held, len(order)))
    d.ordinary = len(free) <= 1 and not partials
    d.add(f, expr, DEFINITION, "the expression to differentiate" + (f"; {_listed(held)} held constant" if held else ""))
    if order:
        current = expr
        for n, var in enumerate(order, 1):
            if len(order) > 1:
                d.section(f"derivative {n}: by {_shown(var)}")
            shown = nn_form(d, differentiate(d, current, var), current, var)
            current = _plain(d, shown, expr)
        d.goal(_order_name(name, order, partial=len(free) > 1), expr, tuple(order), current, shown=shown)
        return d
    for var in partials:
        others = [s for s in free if s != var]
        d.section(f"∂{name}/∂{_shown(var)}" + (f", {_listed(others, math=False)} held constant" if others else ""))
        shown = nn_form(d, differentiate(d, expr, var), expr, var)
        d.goal(f"∂{name}/∂{sp.sstr(var)}", expr, var, _plain(d, shown, expr), shown=shown)
    return d


def _plain(d: Derivation, value: sp.Expr, expr: sp.Expr) -> sp.Expr:
    """value in the expression's own variables: names the steps defined for the reader (the
    softmax outputs ŷ_k) written out, so the result compiles and differentiates again."""
    named = {k: v for k, v in d.defs.items() if isinstance(k, sp.Symbol) and k not in expr.free_symbols}
    return Derivation.expand(value, named) if value.free_symbols & set(named) else value


def _listed(symbols: list, math: bool = True) -> str:
    """`y` and `z`: names as the derivation prints them (β, not beta), each set as mathematics
    (math=False: plain, for a heading)."""
    names = [f"`{_shown(s)}`" if math else _shown(s) for s in symbols]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _shown(expr) -> str:
    from symnn.render.text import show

    return show(expr)


def _order_name(name: str, order: list, partial: bool = False) -> str:
    """df/dx, d^2f/dx^2, or ∂^2f/∂x∂y; ∂f/∂x, ∂^2f/∂x^2 for a function of several variables."""
    n, d = len(order), "∂" if partial else "d"
    if n == 1:
        return f"{d}{name}/{d}{sp.sstr(order[0])}"
    if len(set(order)) == 1:
        return f"{d}^{n}{name}/{d}{sp.sstr(order[0])}^{n}"
    return f"∂^{n}{name}/" + "".join(f"∂{sp.sstr(v)}" for v in reversed(order))


def _title(expr, variables, held, order: int) -> str:
    what = "derivative" if not held and len(variables) == 1 else "partial derivative"
    what = {2: "second ", 3: "third "}.get(order, f"{order}th " if order > 3 else "") + what
    by = ", ".join(f"`{_shown(v)}`" for v in variables)
    many = "s" if len(variables) > 1 and not order else ""
    return f"The {what}{many} of `{_shown(expr)}` with respect to {by}"


def _variables(wrt, free: list) -> tuple[list, list]:
    """(partials, order): "x,y" -> each partial; ["x", "x"] -> the second derivative."""
    if isinstance(wrt, (list, tuple)) and len(wrt) == 1:
        wrt = wrt[0]
    if isinstance(wrt, (list, tuple)):
        if not wrt or len(wrt) > 4:
            raise InputError("give 1 to 4 variables for a higher derivative (--wrt x --wrt x)")
        return [], [_variable(w, free) for w in wrt]
    if isinstance(wrt, str) and "," in wrt:
        names = [w.strip() for w in wrt.split(",")]
        variables = [_variable(w, free) for w in names]
        if len(set(variables)) != len(variables):
            raise InputError(f"--wrt {wrt!r} names a variable twice; for a second derivative give --wrt x --wrt x")
        return variables, []
    return [], [_variable(wrt, free)]


def _variable(wrt: "str | sp.Symbol | None", free: list) -> sp.Symbol:
    """The variable to differentiate by: --wrt parsed as one name, or the only free symbol."""
    from symnn.parse import parse

    if wrt is None:
        if len(free) != 1:
            raise InputError(
                f"say which variable to differentiate by (--wrt); the expression has "
                f"{', '.join(map(str, free)) or 'no variables'}"
            )
        return free[0]
    var = parse(wrt, what="variable (--wrt)") if isinstance(wrt, str) else wrt
    if not isinstance(var, sp.Symbol):
        raise InputError(f"--wrt must be one variable name such as x, not {sp.sstr(var)[:40]!r}")
    return next((s for s in free if s.name == var.name), var)  # absent: a constant, derivative 0
