"""NumbaPrinter: SymPy expressions -> Python that Numba compiles, in SymPy's printer style.

Expressions print as in PythonCodePrinter (math.exp, math.sqrt, ...) with the constructs Numba
cannot take from lambdify printed by hand: Max/Min -> max/min, Piecewise and Heaviside ->
conditional expressions, KroneckerDelta -> a comparison, floor/ceiling of integer quotients ->
integer division. Statements are emitted, not returned: `_print_Sum` writes its loops with an
accumulator into the current block and returns the accumulator's name; `statements()` hoists
Sums and guarded branches, applies sympy.cse and writes the assignments.

Only printing lives here: the module around a kernel is assembled by symnn.codegen.writer, an
output's loop nest by symnn.codegen.loops with the rewrites of symnn.codegen.passes.
"""

from __future__ import annotations

import builtins
import keyword
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import sympy as sp
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pycode import PythonCodePrinter

from symnn.codegen.lower import Loop, order_loops
from symnn.parse import as_expr

INDENT = "    "
RESERVED = {
    "math",
    "np",
    "njit",
    "prange",
    "range",
    "out_shapes",
    "NAME",
    "FUNCTION",
    "KIND",
    "INPUTS",
    "OUTPUTS",
    *dir(builtins),
}


def identifier(name: str) -> str:
    """A Python identifier for a symbol name: η -> eta, w_1' -> w_1_prime, lambda -> lambda_."""
    out = []
    for ch in name:
        if ch.isascii() and (ch.isalnum() or ch == "_"):
            out.append(ch)
        elif ch == "'":
            out.append("_prime")
        elif unicodedata.category(ch).startswith("L"):
            out.append(unicodedata.name(ch, "x").split()[-1].lower())
        else:
            out.append("_")
    s = "".join(out).strip("_") or "x"
    if s[0].isdigit():
        s = "v" + s
    if keyword.iskeyword(s) or s in RESERVED:
        s += "_"
    return s


class NumbaPrinter(PythonCodePrinter):
    """Prints expressions for Numba's nopython mode and emits loop statements."""

    printmethod = "_numbacode"
    language = "Python (Numba)"

    def __init__(self, settings: dict | None = None, names: dict | None = None) -> None:
        super().__init__(settings)
        self.names: dict[sp.Basic, str] = dict(names or {})
        self.taken: set[str] = set(RESERVED) | set(self.names.values())
        self.lines: list[str] = []
        self.depth = 0
        self.active: set[sp.Symbol] = set()  # variables of the enclosing loops

    # -- names -----------------------------------------------------------------------------------
    def name(self, obj: sp.Basic) -> str:
        """The identifier of a symbol or array, allocated on first use."""
        if obj not in self.names:
            label = obj.label.name if isinstance(obj, sp.IndexedBase) else obj.name
            self.names[obj] = self.fresh(identifier(label))
        return self.names[obj]

    def fresh(self, prefix: str) -> str:
        k, name = 0, prefix
        while name in self.taken:
            k += 1
            name = f"{prefix}{k}"
        self.taken.add(name)
        return name

    def temp(self, prefix: str) -> sp.Dummy:
        """A new local variable, as a symbol that prints as its fresh name."""
        name = self.fresh(prefix)
        sym = sp.Dummy(name)
        self.names[sym] = name
        return sym

    def _temps(self) -> Iterator[sp.Dummy]:
        while True:
            yield self.temp("t")

    # -- statements ------------------------------------------------------------------------------
    def emit(self, line: str) -> None:
        self.lines.append(INDENT * self.depth + line)

    @contextmanager
    def indented(self, levels: int = 1) -> Iterator[None]:
        self.depth += levels
        try:
            yield
        finally:
            self.depth -= levels

    def open_loops(self, loops: Iterable[Loop], parallel: bool = False) -> None:
        """`for v in range(lo, hi + 1):` for each (v, lo, hi), nested, the first one a prange when
        `parallel`; the caller closes them by restoring `depth` (and `active`)."""
        for k, (v, a, b) in enumerate(loops):
            self.emit(f"for {self.name(v)} in {self.range_of(a, b, parallel=parallel and k == 0)}:")
            self.depth += 1
            self.active.add(v)

    def range_of(self, lo: sp.Expr, hi: sp.Expr, parallel: bool = False) -> str:
        """`range(lo, hi + 1)`, the +1 pushed into a Min so the bound reads naturally."""
        stop = sp.Min(*[a + 1 for a in hi.args]) if isinstance(hi, sp.Min) else hi + 1
        fn = "prange" if parallel else "range"
        if lo == 0:
            return f"{fn}({self._print(stop)})"
        return f"{fn}({self._print(lo)}, {self._print(stop)})"

    def statements(self, target: str, expr: sp.Expr, op: str = "=") -> None:
        """Write `target op expr`: Sums become loops, guarded branches `if`s, shared subterms temps."""
        self.assign_all([(target, as_expr(expr))], op)

    def assign_all(self, pairs: list[tuple[str, sp.Expr]], op: str = "=") -> None:
        """Several assignments sharing one CSE (an activation and its derivative)."""
        if len(pairs) == 1 and isinstance(pairs[0][1], sp.Piecewise):
            self.if_chain(*pairs[0], op)
            return
        shared: dict = {}  # a Sum both expressions hold is computed once
        pairs = [(t, self._hoist(e, shared)) for t, e in pairs if not (op == "+=" and e == 0)]
        pairs = [(t, e.xreplace(shared)) for t, e in pairs]
        if not pairs:
            return
        subs, reduced = sp.cse([e for _, e in pairs], symbols=self._temps(), order="none")
        for sym, sub in subs:
            if isinstance(sub, sp.Piecewise):
                self.if_chain(self.names[sym], sub)
            else:
                self.emit(f"{self.names[sym]} = {self._print(sub)}")
        for (target, _), e in zip(pairs, reduced):
            if isinstance(e, sp.Piecewise):
                self.if_chain(target, e, op)
            else:
                self.emit(f"{target} {op} {self._print(e)}")

    def if_chain(self, target: str, pw: sp.Piecewise, op: str = "=") -> None:
        """`if c1: target op e1 elif ...`; a zero branch of an accumulation is left out.
        Subterms the branches share are computed once before the `if` when they read no array
        (σ's e^(−|u|) in both quotients): then each branch is a cheap choice, branch-free."""
        pw = self._share_branch_terms(pw)
        first = True
        for e, c in pw.args:
            if c == sp.true:
                if first:
                    self.statements(target, e, op)
                    return
                if op == "+=" and e == 0:
                    return
                self.emit("else:")
            else:
                self.emit(f"{'if' if first else 'elif'} {self._print(c)}:")
            with self.indented():
                n = len(self.lines)
                self.statements(target, e, op)
                if len(self.lines) == n:
                    self.emit("pass")
            if c == sp.true:
                return
            first = False
        if op == "=":
            self.emit("else:")
            self.emit(f"{INDENT}{target} = math.nan")

    def _share_branch_terms(self, pw: sp.Piecewise) -> sp.Piecewise:
        values = [e for e, _ in pw.args]
        if len(values) < 2 or any(v.has(sp.Indexed, sp.Sum, sp.Piecewise) for v in values):
            return pw
        subs, reduced = sp.cse(values, symbols=self._temps(), order="none")
        back: dict = {}
        for sym, sub in subs:  # a shared 1/x stays a division: x/y, not x·(1/y)
            sub = sub.xreplace(back)
            if sub.is_Pow and sub.exp.is_negative:
                back[sym] = sub
            else:
                self.emit(f"{self.names[sym]} = {self._print(sub)}")
        return sp.Piecewise(*[(e.xreplace(back), c) for e, (_, c) in zip(reduced, pw.args)])

    def _hoist(self, expr: sp.Expr, repl: dict | None = None) -> sp.Expr:
        """Print the Sums and the array-reading branches of expr as statements first; what is
        left is a plain expression of their results (`repl`: ones already printed here)."""
        repl = {} if repl is None else repl

        def visit(e):
            if e in repl:
                return
            if isinstance(e, sp.Sum):
                repl[e] = self.sum_loops(e)
            elif isinstance(e, sp.Piecewise) and e.has(sp.Indexed, sp.Sum):
                # a Max/Min of array entries in the first condition (always evaluated) is computed
                # once before the `if`, for every condition and expression that repeats it
                for mm in sorted(e.args[0].cond.atoms(sp.Max, sp.Min), key=sp.default_sort_key):
                    if mm.has(sp.Indexed) and mm not in repl:
                        repl[mm] = self.temp("m")
                        self.emit(f"{self.names[repl[mm]]} = {self._print(mm)}")
                sym = self.temp("v")
                self.if_chain(self.names[sym], e.xreplace(repl))
                repl[e] = sym
            else:
                for a in e.args:
                    visit(a)

        visit(expr)
        return expr.xreplace(repl) if repl else expr

    # -- printers --------------------------------------------------------------------------------
    def code(self, expr: sp.Basic) -> str:
        """expr printed as an expression (its Sums and branches written as statements first)."""
        return self._print(expr)

    def _print_Sum(self, expr: sp.Sum) -> str:
        return self.names[self.sum_loops(expr)]

    def sum_loops(self, expr: sp.Sum, into: list[tuple[str, dict]] | None = None) -> sp.Dummy | None:
        """Write the loops of a Sum, accumulating into a new variable, which is returned. With
        `into` = [(name, substitution), ...] the loops accumulate several copies of the body at
        once, each into its own named variable (unroll-and-jam)."""
        body = expr.function
        limits: list[Loop] = []
        for v, a, b in expr.limits:
            if v in self.active or any(v == w for w, _, _ in limits):
                w = sp.Dummy(v.name, integer=True)
                self.names[w] = self.fresh(identifier(v.name))
                body = body.xreplace({v: w})
                v = w
            limits.append((v, a, b))
        acc_sym = None
        if into is None:
            acc_sym = self.temp("acc")
            into = [(self.names[acc_sym], {})]
        for name, _ in into:
            self.emit(f"{name} = 0.0")
        depth, active = self.depth, set(self.active)
        self.open_loops(order_loops(limits))
        self.assign_all([(name, body.xreplace(subs)) for name, subs in into], "+=")
        self.depth, self.active = depth, active
        return acc_sym

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return self.name(expr)

    _print_Dummy = _print_Symbol

    def _print_IndexedBase(self, expr: sp.IndexedBase) -> str:
        return self.name(expr)

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        idx = ", ".join(self._print(i) for i in expr.indices)
        return f"{self._print(expr.base)}[{idx}]"

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        (e, c), rest = expr.args[0], expr.args[1:]
        if c == sp.true:
            return self._print(e)
        other = self._print(sp.Piecewise(*rest)) if rest else "math.nan"
        return f"({self._print(e)} if {self._print(c)} else {other})"

    def _print_Relational(self, expr) -> str:
        lhs, rhs = self._print(expr.lhs), self._print(expr.rhs)
        return f"{lhs} {expr.rel_op} {rhs}"

    def _print_And(self, expr) -> str:
        return " and ".join(self.parenthesize(a, PRECEDENCE["And"]) for a in expr.args)

    def _print_Or(self, expr) -> str:
        return " or ".join(self.parenthesize(a, PRECEDENCE["Or"]) for a in expr.args)

    def _print_Not(self, expr) -> str:
        return f"not ({self._print(expr.args[0])})"

    def _print_BooleanTrue(self, expr) -> str:
        return "True"

    def _print_BooleanFalse(self, expr) -> str:
        return "False"

    def _print_Max(self, expr) -> str:
        return f"max({', '.join(self._print(a) for a in expr.args)})"

    def _print_Min(self, expr) -> str:
        return f"min({', '.join(self._print(a) for a in expr.args)})"

    def _print_Heaviside(self, expr) -> str:
        x = self._print(expr.args[0])
        h0 = expr.args[1] if len(expr.args) > 1 else sp.Rational(1, 2)
        if h0 == 0:
            return f"(1.0 if {x} > 0 else 0.0)"
        if h0 == 1:
            return f"(1.0 if {x} >= 0 else 0.0)"
        return f"(1.0 if {x} > 0 else ({self._print(sp.Float(h0))} if {x} == 0 else 0.0))"

    def _print_KroneckerDelta(self, expr) -> str:
        a, b = (self._print(x) for x in expr.args)
        return f"(1.0 if {a} == {b} else 0.0)"

    def _quotient(self, expr):
        num, den = sp.fraction(sp.together(expr.args[0]))
        if den != 1 and num.is_integer and den.is_integer:
            return num, den
        return None

    def _print_floor(self, expr) -> str:
        q = self._quotient(expr)
        if q is None:
            return f"math.floor({self._print(expr.args[0])})"
        num, den = q
        return f"{self.parenthesize(num, PRECEDENCE['Mul'])}//{self.parenthesize(den, PRECEDENCE['Mul'])}"

    def _print_ceiling(self, expr) -> str:
        q = self._quotient(expr)
        if q is None:
            return f"math.ceil({self._print(expr.args[0])})"
        num, den = q
        return f"-({self.parenthesize(-num, PRECEDENCE['Mul'])}//{self.parenthesize(den, PRECEDENCE['Mul'])})"

    def parenthesize(self, item: Any, level: int, strict: bool = False) -> str:
        # an integer division binds like `*`: inside a product it needs parentheses
        if isinstance(item, (sp.floor, sp.ceiling)) and self._quotient(item) is not None:
            s = self._print(item)
            wrap = level >= PRECEDENCE["Mul"] or item.func is sp.ceiling and level > PRECEDENCE["Add"]
            return f"({s})" if wrap else s
        return super().parenthesize(item, level, strict)

    def _print_Add(self, expr, order=None) -> str:
        # positive terms first, numbers last: p - k_h + 1 (but 1 - y, not -y + 1)
        terms = sorted(
            self._as_ordered_terms(expr, order=order), key=lambda t: (t.is_Number, t.could_extract_minus_sign())
        )
        if terms[0].could_extract_minus_sign() and terms[-1].is_Number and terms[-1] > 0:
            terms.insert(0, terms.pop())
        out = []
        for t in terms:
            s = self._print(t)
            if s.startswith("-"):
                out.extend(["-", s[1:]])
            else:
                out.extend(["+", s])
        sign = out.pop(0)
        return ("-" if sign == "-" else "") + " ".join(out)
