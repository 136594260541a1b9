"""What a learner's names mean: the givens, and the derivatives and sums written with them.

`dC/dw_1` is the derivative of C with every given substituted, by w_1, the other names held
fixed. When the variable is itself a given (`dC/dyhat`), C is expanded down to that name and
differentiated by it. Claims are compared after expanding both sides fully. A given whose name
carries an index letter (`given yhat_i = sigmoid(z_i)`) defines the whole family yhat_1,
yhat_2, ...; sums with numeric ranges are written out term by term, with x_i -> x_1, x_2, ...
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from symnn.checking.notation import Partial
from symnn.derive.derivation import almost_everywhere as derive_almost_everywhere
from symnn.errors import InputError

INDEX_LETTERS = frozenset("ijklmpqrst")
MAX_TERMS = 200  # terms one written-out sum may have
MAX_SIZE_VALUES = (1, 2, 3)  # a symbolic range end (n) is checked at these sizes


def components(name: str) -> list[str]:
    return name.split("_")


def index_letters(sym: sp.Symbol) -> list[str]:
    """The index letters of a family name: yhat_i -> [i], x_1_i -> [i]."""
    return [c for c in components(sym.name)[1:] if c in INDEX_LETTERS]


def with_index(expr: sp.Expr, letter: str, value: int) -> sp.Expr:
    """expr with the index letter replaced by value, in names (x_i -> x_3) and as a symbol."""
    subs: dict[sp.Basic, sp.Basic] = {}
    for s in expr.free_symbols:
        if not isinstance(s, sp.Symbol):
            continue
        if s.name == letter:
            subs[s] = sp.Integer(value)
            continue
        parts = components(s.name)
        if letter in parts[1:]:
            new = "_".join([parts[0]] + [str(value) if p == letter else p for p in parts[1:]])
            subs[s] = sp.Symbol(new, real=True)
    return expr.xreplace(subs)


@dataclass
class Problem:
    """The givens of one derivation, and how its expressions expand."""

    defs: dict[sp.Symbol, sp.Expr] = field(default_factory=dict)
    lines: dict[sp.Symbol, int] = field(default_factory=dict)  # where each given was written
    sizes: dict[sp.Symbol, int] = field(default_factory=dict)  # the value of each size symbol (n) now

    def define(self, name: sp.Symbol, expr: sp.Expr, line: int) -> None:
        if name in self.defs:
            raise InputError(f"line {line}: {name} is already given on line {self.lines[name]}")
        self.defs[name] = expr
        self.lines[name] = line

    @property
    def names(self) -> frozenset[str]:
        return frozenset(s.name for s in self.defs)

    def definition(self, sym: sp.Symbol) -> sp.Expr | None:
        """The given definition of sym, directly or as a member of a family (yhat_3 from yhat_i)."""
        if sym in self.defs:
            return self.defs[sym]
        parts = components(sym.name)
        for name, expr in self.defs.items():
            fam = components(name.name)
            if len(fam) != len(parts) or fam[0] != parts[0] or not index_letters(name):
                continue
            values: dict[str, int] = {}
            for f, p in zip(fam[1:], parts[1:]):
                if f in INDEX_LETTERS and p.isdigit():
                    if values.setdefault(f, int(p)) != int(p):
                        break
                elif f != p:
                    break
            else:
                if values:
                    for letter, value in values.items():
                        expr = with_index(expr, letter, value)
                    return expr
        return None

    def size_symbols(self, exprs: list[sp.Expr]) -> list[sp.Symbol]:
        """Symbols that end a sum's range (n in sum(..., (i, 1, n))), in the givens or the claims."""
        found: set[sp.Symbol] = set()
        for e in [*self.defs.values(), *exprs]:
            for s in e.atoms(sp.Sum):
                for _, lo, hi in s.limits:
                    found |= {x for x in (lo.free_symbols | hi.free_symbols) if isinstance(x, sp.Symbol)}
        return sorted(found, key=str)

    def unroll(self, expr: sp.Expr, strict: bool = True) -> sp.Expr:
        """Sums with numeric ranges written out, innermost first (strict: a symbolic range is an error)."""
        expr = expr.xreplace({k: sp.Integer(v) for k, v in self.sizes.items()})

        def numeric(s: sp.Sum) -> bool:
            return all(lo.is_Integer and hi.is_Integer for _, lo, hi in s.limits)

        def write_out(s: sp.Sum) -> sp.Expr:
            body = s.function
            for index, lo, hi in reversed(s.limits):
                if not (lo.is_Integer and hi.is_Integer):
                    raise InputError(
                        f"the sum over {index} runs from {lo} to {hi}: give numbers, or a name such as n "
                        "that ends the range (checked for n = 1, 2, 3)"
                    )
                if int(hi) - int(lo) + 1 > MAX_TERMS:
                    raise InputError(
                        f"a sum over {index} has {int(hi) - int(lo) + 1} terms; at most {MAX_TERMS} are written out"
                    )
                body = sp.Add(*[with_index(body, index.name, k) for k in range(int(lo), int(hi) + 1)])
            return body

        while True:
            inner = [s for s in expr.atoms(sp.Sum) if not s.function.has(sp.Sum) and (strict or numeric(s))]
            if not inner:
                return expr
            expr = expr.xreplace({s: write_out(s) for s in inner})

    def expand(self, expr: sp.Expr, keep: frozenset = frozenset(), _stack: tuple = ()) -> sp.Expr:
        """expr with every given substituted (except those in keep) and derivatives taken."""
        expr = self.unroll(expr)
        if expr.has(Partial):
            expr = expr.replace(
                lambda e: isinstance(e, Partial), lambda e: self.derivative(e.args[0], e.args[1], _stack)
            )
        subs = {}
        for s in expr.free_symbols:
            if s in keep or not isinstance(s, sp.Symbol):
                continue
            d = self.definition(s)
            if d is None:
                continue
            if s in _stack:
                chain = " -> ".join(str(x) for x in (*_stack, s))
                raise InputError(f"the givens refer to themselves: {chain}")
            subs[s] = self.expand(d, keep, (*_stack, s))
        return expr.xreplace(subs) if subs else expr

    def derivative(self, expr: sp.Expr, var: sp.Symbol, _stack: tuple = ()) -> sp.Expr:
        """d expr / d var: expr expanded down to var (kept when it is a given), then differentiated."""
        var = self.unroll(var)
        if not isinstance(var, sp.Symbol):
            raise InputError(f"a derivative is taken with respect to a name, not {var}")
        down = self.expand(expr, frozenset({var}), _stack)
        return almost_everywhere(sp.diff(down, var))

    def full(self, expr: sp.Expr) -> sp.Expr:
        return self.expand(expr)

    def chain(self, expr: sp.Expr, var: sp.Symbol) -> sp.Expr:
        """d expr / d var through the givens, keeping their names: Σ ∂expr/∂g · dg/dvar (the chain rule).
        A sum over a symbolic range is differentiated term by term, inside the sum."""
        expr = self.unroll(expr, strict=False)
        if expr.has(Partial):
            expr = expr.replace(lambda e: isinstance(e, Partial), lambda e: self.chain(*e.args))
        sums = {s: sp.Dummy("S") for s in expr.atoms(sp.Sum)}
        if sums:
            outer = expr.xreplace(sums)
            total = self.chain(outer, var)
            for s, d in sums.items():
                total += sp.diff(outer, d) * sp.Sum(self.chain(s.function, var), *s.limits)
            return total.xreplace({d: s for s, d in sums.items()})
        total = sp.diff(expr, var)
        for g in sorted(expr.free_symbols, key=str):
            if g == var or not isinstance(g, sp.Symbol):
                continue
            d = self.definition(g)
            if d is not None:
                total += sp.diff(expr, g) * self._given_chain(g, d, var)
        return almost_everywhere(total)

    def _given_chain(self, g: sp.Symbol, d: sp.Expr, var: sp.Symbol) -> sp.Expr:
        """dg/dvar; a softmax output in the course's form ŷ_i(∂a_i/∂v − Σ_k ŷ_k ∂a_k/∂v)."""
        outputs = self.softmax_outputs()
        if g not in outputs:
            return self.chain(d, var)
        arg, den = outputs[g]
        by_arg = {a: name for name, (a, dd) in outputs.items() if dd == den}
        total = sp.S.Zero
        for t in den.args:
            share = by_arg.get(t.args[0], t / den)
            total += share * self.chain(t.args[0], var)
        return g * (self.chain(arg, var) - total)

    def softmax_outputs(self) -> dict[sp.Symbol, tuple[sp.Expr, sp.Expr]]:
        """Givens of the form exp(a)/Σ_k exp(a_k): name -> (a, the denominator)."""
        found = {}
        for name, d in self.defs.items():
            num, den = sp.fraction(sp.together(self.unroll(d, strict=False)))
            if isinstance(num, sp.exp) and isinstance(den, sp.Add) and num in den.args:
                if all(isinstance(t, sp.exp) for t in den.args) and len(den.args) >= 2:
                    found[name] = (num.args[0], den)
        return found

    def in_given_names(self, expr: sp.Expr) -> sp.Expr:
        """expr with each given's definition written as its name (σ(z) -> yhat when yhat = σ(z))."""
        back = {self.unroll(d, strict=False): name for name, d in self.defs.items() if not d.is_Symbol}
        return expr.xreplace(back) if back else expr


def almost_everywhere(expr: sp.Expr) -> sp.Expr:
    """The derivative away from jumps (derive's rule: δ(u) -> 0, d floor(u)/du -> 0, as PyTorch's
    gradients); a derivative SymPy leaves unevaluated otherwise is one clear line."""
    expr = derive_almost_everywhere(expr)
    if expr.has(sp.Derivative):
        left = next(iter(expr.atoms(sp.Derivative)))
        raise InputError(f"symnn cannot differentiate {left.expr} here; write its derivative out")
    return expr


def size_assignments(sizes: list[sp.Symbol]) -> list[dict[sp.Symbol, int]]:
    """Each size symbol at each of MAX_SIZE_VALUES (all together), or one empty assignment."""
    if not sizes:
        return [{}]
    return [{s: v for s in sizes} for v in MAX_SIZE_VALUES]
