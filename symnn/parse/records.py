"""Activations and costs from the text a user gives: a name (`relu`), a name with parameters
(`elu(alpha=0.5)`, `ELU(alpha=0.5)`, `huber(delta=2)`) or an expression (`x*tanh(softplus(x))`,
`log(cosh(yhat - y))`), read by the safe parser — never evaluated as code.

An expression becomes a record like the built-in ones (symnn/ops/activations/, ops/costs.py),
named by a hash of its SymPy form (`phi_…`, `cost_…`) and kept for this process, so the
derivation, the kernels and the layers find it by that name. Its `source` is the text that makes
it again (what a saved model stores).
"""

from __future__ import annotations

import re

import sympy as sp

from symnn import notation
from symnn.errors import InputError, SymnnError, unknown
from symnn.ops import activation_key, params
from symnn.ops.activations import ACTIVATIONS, MADE, TEMPLATES, Activation, bind, get_activation, remember
from symnn.ops.costs import COSTS, Cost, Term, bound, get_cost
from symnn.ops.costs import remember as remember_cost
from symnn.parse.expr import parse
from symnn.parse.functions import FUNCTIONS, Func

_CALL = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\((.*)\)\s*", re.S)
_VALUE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([^,=]+?)\s*")


def activation(text: str | Activation, *, expression: bool = False) -> Activation:
    """The activation `text` names or writes; `expression=True` reads it as an expression only."""
    if isinstance(text, Activation):
        return text
    if not isinstance(text, str):
        raise InputError(f"an activation is given as text, e.g. 'relu' or 'x*tanh(x)' (got {type(text).__name__})")
    if not expression:
        key = activation_key(text.strip())
        if key in ACTIVATIONS or text.strip() in MADE:
            return get_activation(text.strip())
        named = _by_layer_name(key)
        if named:
            return ACTIVATIONS[named]
        call = _call(text)
        if call and (_by_layer_name(activation_key(call[0])) or activation_key(call[0]) in TEMPLATES):
            name = _by_layer_name(activation_key(call[0])) or str(activation_key(call[0]))
            return bind(name, **_values(call[1], name))
    return _activation_expression(text)


def cost(text: str | Cost, *, output: str = "yhat", target: str = "y", expression: bool = False) -> Cost:
    """The cost `text` names or writes, in the output and target names given (ŷ is yhat)."""
    if isinstance(text, Cost):
        return text
    if not isinstance(text, str):
        raise InputError(
            f"a cost is given as text, e.g. 'quadratic' or 'log(cosh(yhat - y))' (got {type(text).__name__})"
        )
    if not expression:
        try:
            return get_cost(text)
        except SymnnError:
            pass
        call = _call(text)
        if call and _cost_key(call[0]) in COSTS:
            return bound(call[0], _values(call[1], call[0]))
    return _cost_expression(text, output, target)


def _unknown(kind: str, text: str, names, example: str) -> SymnnError:
    error = unknown(kind, text.strip(), names)
    error.args = (f"{error}; or write an expression, e.g. {example}",)
    return error


def _call(text: str) -> tuple[str, str] | None:
    """(name, inside) for `name(k=v, ...)` with only keyword values inside (or nothing)."""
    m = _CALL.fullmatch(text)
    if not m or (m[2].strip() and "=" not in m[2]):
        return None
    return m[1], m[2]


def _values(inside: str, name: str) -> dict[str, sp.Expr]:
    values: dict[str, sp.Expr] = {}
    for part in filter(str.strip, inside.split(",")):
        m = _VALUE.fullmatch(part)
        if not m:
            raise InputError(
                f"{name}(...) takes parameters as name=number, e.g. {name}(alpha=0.5); got {part.strip()!r}"
            )
        value = parse(m[2], what=f"value of {m[1]}")
        if value.free_symbols or not value.is_number:
            raise InputError(f"{name}'s {m[1]} must be a number, such as 0.5 (got {m[2].strip()!r})")
        values[m[1]] = value
    return values


def _by_layer_name(key: object) -> str | None:
    """ELU, GELUTanh, LeakyReLU: the layer class's name, any case."""
    for record in ACTIVATIONS.values():
        if isinstance(key, str) and record.layer.lower() == key.replace("_", ""):
            return record.name
    return None


def _cost_key(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def _record_functions() -> dict[str, Func]:
    """Every activation record callable inside an expression: elu(x), swish(x, beta=2)."""

    def builder(name: str):
        def build(arg: sp.Expr, **values: sp.Expr) -> sp.Expr:
            return bind(name, **values).phi.xreplace({notation.z: arg})

        return build

    return {
        name: Func(builder(name), params=tuple(s.name for s, _ in record.params))
        for name, record in TEMPLATES.items()
        if name not in FUNCTIONS and name != "threshold"
    }


def _activation_expression(text: str) -> Activation:
    expr = parse(text, functions=_record_functions(), what="activation")
    if isinstance(expr, sp.Symbol) and len(expr.name) > 1:  # a misspelt name, not the identity
        raise _unknown("activation", text, ACTIVATIONS, "x*tanh(x)")
    names = sorted(expr.free_symbols, key=str)
    if not names:
        raise InputError(f"the activation {text.strip()!r} has no variable; write it in one, e.g. x*tanh(x)")
    if len(names) > 1:
        listed = ", ".join(map(str, names))
        raise InputError(
            f"an activation is a function of one variable, but {text.strip()!r} has {len(names)}: {listed} "
            "(write parameters as numbers, e.g. 0.5*x, or use a record's parameter, e.g. elu(x, alpha=0.5))"
        )
    phi = expr.xreplace({names[0]: notation.z})
    for record in ACTIVATIONS.values():
        if record.phi == phi:
            return record
    if phi.is_positive and (1 - phi).is_positive:
        outputs = "unit"
    else:
        outputs = "positive" if phi.is_positive else "real"
    record = Activation(
        f"phi_{params.digest(sp.srepr(phi))}",
        f"φ(z) = {sp.sstr(phi)}",
        phi,
        None,
        "",
        outputs=outputs,
        layer="Activation",
        order=1000,
        source=text.strip(),
    )
    return remember(record)


def _cost_expression(text: str, output: str, target: str) -> Cost:
    for role, name in (("output", output), ("target", target)):
        if not (isinstance(name, str) and name.isidentifier()):
            raise InputError(f"the cost's {role} name must be a plain name such as yhat or y (got {name!r})")
    o, t = sp.Symbol(output, real=True), sp.Symbol(target, real=True)
    expr = parse(text, symbols={output: o, target: t}, what="cost")
    if isinstance(expr, sp.Symbol) and expr not in (o, t):
        raise _unknown("cost", text, COSTS, "log(cosh(yhat - y))")
    extra = sorted(map(str, expr.free_symbols - {o, t}))
    if extra:
        raise InputError(
            f"the cost {text.strip()!r} may use only the output {output} and the target {target}; "
            f"it also has {', '.join(extra)} (write parameters as numbers)"
        )
    if o not in expr.free_symbols:
        raise InputError(f"the cost {text.strip()!r} does not depend on the output {output}: it has no gradient")
    yhat, y = notation.yhat, notation.y
    expr = expr.xreplace({o: yhat, t: y})
    source = text.strip() if (output, target) == ("yhat", "y") else sp.sstr(expr)
    record = Cost(
        f"cost_{params.digest(sp.srepr(expr))}",
        f"C = {sp.sstr(expr)}",
        Term(expr, yhat, y),
        None,
        "your cost, as written",
        source=source,
        reference="",
    )
    return remember_cost(record)
