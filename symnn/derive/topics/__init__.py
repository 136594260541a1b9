"""The registry behind `symnn derive TOPIC`: each topic builds a Derivation step by step.

One module per op or topic, named as the op is named at every stage (symnn/ops/dense.py,
derive/topics/dense.py, symnn/kernels/dense.py): neuron, activations, costs, gradient_descent,
optimizers, expression, backprop, dense, conv2d, pool, flatten, softmax. A module registers its
topics with `@topic(name, summary)`; importing this package imports every module, so TOPICS is complete."""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from symnn.derive.derivation import Derivation
from symnn.derive.steps import detail_level
from symnn.errors import DerivationError, InputError, unknown

TOPICS: dict[str, tuple[Callable[..., Derivation], str]] = {}


def topic(name: str, summary: str):
    def register(func):
        TOPICS[name] = (func, summary)
        return func

    return register


def named(text: str, latex: str, **assumptions) -> sp.Symbol:
    """A symbol that prints as `text` (unicode, e.g. π_0) and as `latex` in LaTeX (\\pi_{0})."""
    cls = type("NamedSymbol", (sp.Symbol,), {"_latex": lambda self, printer, tex=latex: tex})
    return cls(text, **assumptions)


def derive(
    topic: "str | sp.Expr", verify: bool = True, timeout: float | None = None, detail: str | None = None, **options
) -> "Derivation":
    """Derive a topic step by step (see `symnn derive --list`) and check every step with SymPy.

    `topic` may also be a SymPy expression: `derive(x**2 * sp.sin(x), wrt=x)`. A derivation of
    a user's expression (`expr=`, or an activation or cost written as an expression rather than
    a built-in name) stops after `timeout` seconds (default 20; 0 or None for the built-in
    topics: no limit). `detail` is "brief", "normal" (default) or "full"."""
    from symnn.limits import DEFAULT_TIMEOUT, time_limit

    if isinstance(topic, sp.Basic):
        options["expr"], topic = topic, "expression"
    if not isinstance(topic, str):
        raise InputError(
            f"derive() takes a topic name or a SymPy expression, not "
            f"{type(topic).__name__}; topics: " + ", ".join(sorted(TOPICS))
        )
    key = topic.lower().replace("_", "-")
    if key not in TOPICS:
        raise unknown("topic", topic, TOPICS)
    func = TOPICS[key][0]
    options = {k: v for k, v in options.items() if v is not None}
    user = _user_text(options)
    keys = user  # the options that hold a user's text
    if timeout is None and user:
        timeout = DEFAULT_TIMEOUT
    _check_timeout(timeout)
    with time_limit(timeout, "the derivation"), detail_level(detail):
        try:
            if "expr" in keys:
                options["expr"] = _finite(options["expr"])
            for name in {"activation", "cost"} & set(keys):
                _finite_record(name, options[name])
            d = func(**options)
        except TypeError as exc:
            if not user or "argument" in str(exc):
                raise InputError(f"topic {key!r} does not take these options: {exc}") from None
            raise _unreadable(exc) from None
        except (
            ValueError,
            NotImplementedError,
            RecursionError,
            ZeroDivisionError,
            OverflowError,
            AttributeError,
        ) as exc:
            if not user or isinstance(exc, InputError):
                raise
            raise _unreadable(exc) from None
        return d.verify() if verify else d


def _user_text(options: dict) -> list[str]:
    """The options that hold a user's expression: `expr`, and an activation or cost that is not
    a built-in name (text such as 'x^9*(x+1)^9' or a record made from one)."""
    from symnn.ops import activation_key
    from symnn.ops.activations import ACTIVATIONS
    from symnn.ops.costs import ALIASES, COSTS

    keys = ["expr"] if "expr" in options else []
    activation, cost = options.get("activation"), options.get("cost")
    built_in = isinstance(activation, str) and activation_key(activation.strip()) in ACTIVATIONS
    if activation is not None and not built_in:
        keys.append("activation")
    if cost is not None:
        key = cost.strip().lower().replace("_", "-") if isinstance(cost, str) else None
        if key is None or (key != "all" and ALIASES.get(key, key) not in COSTS):
            keys.append("cost")
    return keys


MAX_TIMEOUT = 1e7  # seconds (about 4 months): the timer takes no more
_UNDEFINED = {sp.zoo: "complex infinity, e.g. log(0)", sp.nan: "not a number, e.g. 0*oo", sp.oo: "infinity"}


def _finite(expr, what: str = "expression"):
    """A user's expression (text read by the safe parser) that holds no zoo, nan or oo."""
    from symnn.parse import parse

    value = parse(expr) if isinstance(expr, str) else expr
    if isinstance(value, sp.Basic):
        for atom, meaning in _UNDEFINED.items():
            if value.has(atom, -atom):
                shown = sp.sstr(value)
                shown = shown if len(shown) <= 40 else shown[:40] + "…"
                raise InputError(f"the {what} is undefined: it reads as {shown}, holding {atom} ({meaning})")
    return value


def _finite_record(name: str, value) -> None:
    """A user's activation or cost (text or a record) whose formula holds no zoo, nan or oo."""
    from symnn.parse import records

    if name == "activation":
        _finite(records.activation(value).phi, "activation")
    else:
        _finite(records.cost(value).term(sp.Symbol("yhat", real=True), sp.Symbol("y", real=True)), "cost")


def _check_timeout(timeout) -> None:
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0 or timeout > MAX_TIMEOUT
    ):
        raise InputError(
            f"timeout must be a number of seconds from 0 to {MAX_TIMEOUT:g} (0: no limit), not {timeout!r}"
        )


def _unreadable(exc: Exception) -> DerivationError:
    """SymPy failing on a user's expression: one line, the reason's first line."""
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
    if isinstance(exc, RecursionError):
        reason = "it nests too deeply"
    return DerivationError(f"symnn cannot derive this expression: {reason}")


# Every topic module registers its topics on import (after topic, named and derive: they use them).
from symnn.derive.topics import (
    activations,
    backprop,
    conv2d,
    costs,
    dense,
    expression,
    flatten,
    gradient_descent,
    neuron,
    optimizers,
    pool,
    softmax,
)

# `symnn derive --list` shows the topics in this order; a topic not named here comes after them.
LISTING = (
    "neuron",
    "activation",
    "cost",
    "gradient-descent",
    "optimizer",
    "cost-functions",
    "expression",
    "backprop",
    "dense",
    "conv2d",
    "conv2d-layer",
    "maxpool",
    "avgpool",
    "flatten",
    "softmax-cross-entropy",
    "relu",
    "sigmoid-cross-entropy",
)
_listed = sorted(TOPICS.items(), key=lambda item: LISTING.index(item[0]) if item[0] in LISTING else len(LISTING))
TOPICS.clear()
TOPICS.update(_listed)
del _listed
