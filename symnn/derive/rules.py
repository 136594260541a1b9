"""Rule records of the step-by-step differentiator.

Each rule knows the expression it differentiates, the variable, its sub-rules, the formula it
applies (`applied`, with the sub-derivatives left unevaluated) and its value (`eval`). The
engine builds the tree; `Derivation` turns it into checked steps; printers only read steps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

import sympy as sp


def D(expr: sp.Expr, var: sp.Expr) -> sp.Derivative:
    """An unevaluated ∂expr/∂var."""
    return sp.Derivative(expr, var, evaluate=False)


@dataclass
class Rule:
    expr: sp.Expr
    var: sp.Expr
    children: list["Rule"] = field(default_factory=list)
    title: ClassVar[str] = "rule"
    note: ClassVar[str] = ""

    def applied(self) -> sp.Expr:
        """The rule's formula with every sub-derivative still unevaluated."""
        raise NotImplementedError

    def combine(self, parts: list[sp.Expr]) -> sp.Expr:
        """The formula with the children's values substituted for their derivatives."""
        return self.applied().xreplace({D(c.expr, c.var): p for c, p in zip(self.children, parts)})

    def eval(self) -> sp.Expr:
        return self.combine([c.eval() for c in self.children])

    @property
    def simple(self) -> bool:
        """True when the rule needs no step of its own: its value is read off at once."""
        return all(isinstance(c, (ConstantRule, IdentityRule, IndexedRule)) for c in self.children)

    def describe(self) -> str:
        return self.note

    def outer(self) -> str:
        """The formula the chain rule quotes for the outer function, in u (the chained rules')."""
        return self.describe()


@dataclass
class ConstantRule(Rule):
    title: ClassVar[str] = "constant rule"
    note: ClassVar[str] = "a term that does not contain the variable has derivative 0"

    def applied(self):
        return sp.S.Zero


@dataclass
class IdentityRule(Rule):
    title: ClassVar[str] = "identity"
    note: ClassVar[str] = "the derivative of a variable with respect to itself is 1"

    def applied(self):
        return sp.S.One


@dataclass
class IndexedRule(Rule):
    title: ClassVar[str] = "Kronecker delta"
    note: ClassVar[str] = "`∂a_j/∂a_k` is 1 when j = k and 0 otherwise: the Kronecker delta `δ_jk`"

    def applied(self):
        return sp.Mul(*[sp.KroneckerDelta(a, b) for a, b in zip(self.expr.indices, self.var.indices)])


@dataclass
class SumRule(Rule):
    title: ClassVar[str] = "sum rule"
    note: ClassVar[str] = "the derivative of a sum is the sum of the derivatives"

    def applied(self):  # constant terms drop out at once: no list of ∂(c)/∂x = 0
        return sp.Add(*[D(c.expr, c.var) for c in self.children if not isinstance(c, ConstantRule)])


@dataclass
class ConstantTimesRule(Rule):
    constant: sp.Expr = sp.S.One
    title: ClassVar[str] = "constant multiple rule"
    note: ClassVar[str] = "a constant factor stays in front of the derivative"

    def applied(self):
        return self.constant * D(self.children[0].expr, self.var)


@dataclass
class ProductRule(Rule):
    title: ClassVar[str] = "product rule"
    note: ClassVar[str] = "`(f g)' = f' g + f g'`"

    def applied(self):
        f, g = self.children[0].expr, self.children[1].expr
        return D(f, self.var) * g + f * D(g, self.var)


@dataclass
class PowerRule(Rule):
    title: ClassVar[str] = "power rule"
    note: ClassVar[str] = "`(u^n)' = n u^(n−1) u'`"

    def applied(self):
        base, n = self.expr.args
        return n * base ** (n - 1) * D(base, self.var)

    def describe(self) -> str:
        half = self.expr.args[1] == sp.S.Half
        if self.children and not isinstance(self.children[0], IdentityRule):
            if half:
                return "with the chain rule: `(sqrt(u))' = u'/(2·sqrt(u))`"
            return "with the chain rule for the inner expression: `(u^n)' = n u^(n−1) u'`"
        x = _name(self.var)
        return f"`(sqrt({x}))' = 1/(2·sqrt({x}))`" if half else f"`({x}^n)' = n {x}^(n−1)`"

    def outer(self) -> str:
        """The derivative with respect to the inner function u, as the chain rule quotes it."""
        n = self.expr.args[1]
        if n == sp.S.Half:
            return "power rule: `(sqrt(u))' = 1/(2·sqrt(u))`"
        if n == -1:
            return "reciprocal rule: `(1/u)' = −1/u²`"
        return "power rule: `(u^n)' = n·u^(n−1)`"


@dataclass
class QuotientRule(Rule):
    """f/g with g depending on the variable: children are the rules for f and g."""

    title: ClassVar[str] = "quotient rule"
    note: ClassVar[str] = "`(f/g)' = (f' g − f g')/g²`"

    def applied(self):
        f, g = self.children[0].expr, self.children[1].expr
        return (D(f, self.var) * g - f * D(g, self.var)) / g**2


@dataclass
class ReciprocalRule(Rule):
    """1/g: the child is the rule for g."""

    title: ClassVar[str] = "reciprocal rule"
    note: ClassVar[str] = "`(1/g)' = −g'/g²`"

    def applied(self):
        g = self.children[0].expr
        return -D(g, self.var) / g**2


@dataclass
class ExponentialRule(Rule):
    """a^u with a constant base a ≠ e: the child is the rule for u."""

    title: ClassVar[str] = "exponential rule"
    note: ClassVar[str] = "`(a^u)' = a^u · ln a · u'`"

    def applied(self):
        a, u = self.expr.args
        return self.expr * sp.log(a) * D(u, self.var)


@dataclass
class LogBaseRule(Rule):
    """log_a u = ln u/ln a, a constant base a ≠ e (times any other constant): the child is the
    rule for u."""

    base: sp.Expr = sp.E
    title: ClassVar[str] = "logarithm rule"
    note: ClassVar[str] = "`(log_a u)' = u'/(u ln a)`"

    def applied(self):
        u = self.children[0].expr
        rest = self.expr * sp.log(self.base) / sp.log(u)  # any other constant factor
        return rest * D(u, self.var) / (u * sp.log(self.base))

    def describe(self) -> str:
        if self.children and not isinstance(self.children[0], IdentityRule):
            return "logarithm rule with the chain rule for the inner expression: `(log_a u)' = u'/(u ln a)`"
        return "`(log_a x)' = 1/(x ln a)`"


@dataclass
class LogDifferentiationRule(Rule):
    """f^g with both f and g depending on the variable: y = f^g, ln y = g ln f."""

    title: ClassVar[str] = "logarithmic differentiation"
    note: ClassVar[str] = "`y = f^g`, so `ln y = g·ln f` and `y' = y·(g·ln f)'`"

    def applied(self):
        return self.expr * D(self.children[0].expr, self.var)


@dataclass
class FunctionRule(Rule):
    """A known derivative f'(u), times u' by the chain rule when u is not the variable itself."""

    title: ClassVar[str] = "known derivative"
    note: ClassVar[str] = "the derivative of a known function, times the inner derivative (chain rule)"

    def applied(self):
        inner = self.expr.args[0]
        outer = outer_derivative(self.expr)
        return outer * D(inner, self.var)

    def describe(self) -> str:
        if self.children and not isinstance(self.children[0], IdentityRule):
            return f"chain rule with the known derivative {self.formula()}"
        return self.formula(_name(self.var))  # sin'(x) = cos(x), in the variable

    def formula(self, letter: str = "u") -> str:
        """f'(u) = ..., with the convention at a kink: `ln'(u) = 1/u`, `|u|' = sign(u)`."""
        from symnn.render.text import show

        u = sp.Symbol(letter)
        d = outer_derivative(self.expr.func(u))
        name = _func_name(self.expr)
        text = f"`|{letter}|' = {show(d)}`" if self.expr.func is sp.Abs else f"`{name}'({letter}) = {show(d)}`"
        at_kink = kink(self.expr.func)
        if at_kink and letter != "u":
            at_kink = re.sub(r"\bu\b", letter, at_kink)
        return text + (f" ({at_kink})" if at_kink else "")

    def outer(self) -> str:
        return "known derivative " + self.formula()


@dataclass
class MaxMinRule(Rule):
    """max(a₁, …, aₙ) or min(a₁, …, aₙ), children the rules of the arguments: the derivative of
    whichever argument is the largest (smallest), each aᵢ' times the steps that say aᵢ wins."""

    title: ClassVar[str] = "max/min rule"
    note: ClassVar[str] = (
        "`max(a, b)' = H(a − b)·a' + H(b − a)·b'`, `H` the unit step; at a tie each "
        "argument gets ½, as torch.maximum and torch.minimum do"
    )

    def applied(self):
        args = [c.expr for c in self.children]
        sign = 1 if isinstance(self.expr, sp.Max) else -1
        terms = [
            sp.Mul(*[sp.Heaviside(sign * (c.expr - b)) for b in args if b is not c.expr]) * D(c.expr, self.var)
            for c in self.children
            if not isinstance(c, ConstantRule)
        ]  # max(0, u): no H(−u)·∂0 term
        return sp.Add(*terms)

    def describe(self) -> str:
        many = len(self.children) > 2
        if not many and any(c.expr == 0 for c in self.children):  # the ReLU shape: hinge, max(0, u)
            f, h = ("max", "H(u)") if isinstance(self.expr, sp.Max) else ("min", "H(−u)")
            u = next(c.expr for c in self.children if c.expr != 0)
            with_u = "" if u == self.var else f", with `u = {_name(u)}`"
            return (
                f"`{f}(0, u)' = {h}·u'`{with_u}, `H` the unit step; at `u = 0` symnn takes `H(0) = ½`, "
                f"as torch.{f}imum does"
            )
        if isinstance(self.expr, sp.Min):
            if many:
                return (
                    "`min(a, b, c)' = H(b − a)·H(c − a)·a' + H(a − b)·H(c − b)·b' + H(a − c)·H(b − c)·c'`, "
                    "`H` the unit step: the derivative of the smallest argument; at a tie of two each gets ½"
                )
            return (
                "`min(a, b)' = H(b − a)·a' + H(a − b)·b'`, `H` the unit step; at a tie each "
                "argument gets ½, as torch.minimum does"
            )
        if many:
            return (
                "`max(a, b, c)' = H(a − b)·H(a − c)·a' + H(b − a)·H(b − c)·b' + H(c − a)·H(c − b)·c'`, "
                "`H` the unit step: the derivative of the largest argument; at a tie of two each gets ½, "
                "as torch.maximum does"
            )
        return self.note


@dataclass
class IndexSumRule(Rule):
    """Σ_j f_j: differentiate term by term under the summation sign."""

    title: ClassVar[str] = "linearity of Σ"
    note: ClassVar[str] = "the derivative of a sum over an index is the sum of the term derivatives"

    def applied(self):
        return sp.Sum(D(self.children[0].expr, self.var), *self.expr.limits)

    def combine(self, parts):
        return sp.Sum(parts[0], *self.expr.limits)


@dataclass
class PiecewiseRule(Rule):
    title: ClassVar[str] = "piecewise"
    note: ClassVar[str] = "differentiate each piece on its own interval"

    def applied(self):
        return sp.Piecewise(*[(D(c.expr, self.var), cond) for c, (_, cond) in zip(self.children, self.expr.args)])

    def combine(self, parts):
        return sp.Piecewise(*[(p, cond) for p, (_, cond) in zip(parts, self.expr.args)])


def _name(var: sp.Expr) -> str:
    """The variable as notes write it (x, w₁)."""
    from symnn.render.text import show

    return show(var)


def _func_name(expr: sp.Expr) -> str:
    names = {
        "sigmoid": "σ",
        "log": "ln",
        "exp": "exp",
        "Abs": "|·|",
        "relu": "ReLU",
        "leaky_relu": "LeakyReLU",
        "Heaviside": "H",
    }
    return names.get(expr.func.__name__, expr.func.__name__)


# d/du f(u) as a textbook writes it, where SymPy's own form differs (tan' = 1 + tan²)
TEXTBOOK: dict = {
    sp.tan: lambda u: sp.sec(u) ** 2,
    sp.cot: lambda u: -(sp.csc(u) ** 2),
    sp.coth: lambda u: -(sp.csch(u) ** 2),
    sp.asec: lambda u: 1 / (sp.Abs(u) * sp.sqrt(u**2 - 1)),
    sp.acsc: lambda u: -1 / (sp.Abs(u) * sp.sqrt(u**2 - 1)),
    sp.acosh: lambda u: 1 / sp.sqrt(u**2 - 1),  # for u > 1, where acosh is real
    sp.acsch: lambda u: -1 / (sp.Abs(u) * sp.sqrt(u**2 + 1)),
    sp.sign: lambda u: sp.S.Zero,
    sp.Heaviside: lambda u, *h: sp.S.Zero,
    sp.floor: lambda u: sp.S.Zero,
    sp.ceiling: lambda u: sp.S.Zero,
}

# What the derivative is taken to be where the function has a kink or jump.
KINKS: dict = {
    sp.Abs: "at `u = 0` the sub-gradient `sign(0) = 0`, as PyTorch takes",
    sp.sign: "0 away from u = 0; at the jump symnn takes 0, as PyTorch does",
    sp.floor: "0 between the integers; at the jumps symnn takes 0, as PyTorch does",
    sp.ceiling: "0 between the integers; at the jumps symnn takes 0, as PyTorch does",
}


def _named() -> None:
    """symnn's own functions (step, ReLU, leaky ReLU) in the tables, on first use."""
    if _NAMED:
        return
    from symnn.ops.functions import leaky_relu, relu, step

    _NAMED.append(True)
    TEXTBOOK[step] = lambda u: sp.S.Zero
    KINKS[step] = "0 away from u = 0; at the jump symnn takes 0, as PyTorch does"
    KINKS[sp.Heaviside] = KINKS[step]
    KINKS[relu] = "0 for u < 0, 1 for u > 0, and 0 at u = 0, as PyTorch"
    KINKS[leaky_relu] = "at the kink u = 0 symnn takes the slope of the negative side, as PyTorch"


_NAMED: list = []


def kink(func) -> str | None:
    _named()
    return KINKS.get(func)


def outer_derivative(expr: sp.Expr) -> sp.Expr:
    """f'(u) evaluated at the function's own argument."""
    _named()
    if expr.func in TEXTBOOK:
        return TEXTBOOK[expr.func](*expr.args)
    return expr.func(*expr.args).fdiff(1) if hasattr(expr, "fdiff") else sp.diff(expr, expr.args[0])
