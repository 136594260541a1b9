"""NumbaPrinter: SymPy expressions -> Python that Numba compiles, in SymPy's printer style.

Expressions print as in PythonCodePrinter (math.exp, math.sqrt, ...) with the constructs Numba
cannot take from lambdify printed by hand: Max/Min -> max/min, Piecewise and Heaviside ->
conditional expressions, KroneckerDelta -> a comparison, floor/ceiling of integer quotients ->
integer division. Statements are emitted, not returned: `_print_Sum` writes its loops with an
accumulator into the current block and returns the accumulator's name; `statements()` hoists
Sums and guarded branches, applies sympy.cse and writes the assignments.

`kernel_module()` assembles the whole generated module (header, metadata, shape function, kernel).
Its loop nests keep every element's additions as written (same terms, same order), with these
rewrites: Sums that do not depend on inner loops computed before them; fixed-size output loops
jammed into one pass of the Sum (`_jam`); for a fixed window over run-time channels, channels
outside the pixels and the window's coefficients read once (`_window_outside`), likewise in a
scatter form (`_scatter_window`); outputs over the same loops written in one pass. The one
exception to the written order: a whole-axis matrix product goes to BLAS (np.dot) above
BLAS_MIN multiply-adds.
"""
from __future__ import annotations

import builtins
import itertools
import keyword
import math
import textwrap
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager

import sympy as sp
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pycode import PythonCodePrinter

from symnn.codegen.lower import LoweredOutput, order_loops
from symnn.codegen.spec import KernelSpec
from symnn.parse import as_expr

INDENT = "    "
RESERVED = {"math", "np", "njit", "prange", "range", "out_shapes", "NAME", "FUNCTION", "KIND",
            "INPUTS", "OUTPUTS", *dir(builtins)}


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

    def __init__(self, settings=None, names: dict | None = None):
        super().__init__(settings)
        self.names: dict[sp.Basic, str] = dict(names or {})
        self.taken: set[str] = set(RESERVED) | set(self.names.values())
        self.lines: list[str] = []
        self.depth = 0
        self.active: set[sp.Symbol] = set()      # variables of the enclosing loops

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
    def indented(self, levels: int = 1):
        self.depth += levels
        try:
            yield
        finally:
            self.depth -= levels

    def open_loops(self, loops, parallel: bool = False) -> None:
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
        shared: dict = {}                     # a Sum both expressions hold is computed once
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
        for sym, sub in subs:                 # a shared 1/x stays a division: x/y, not x·(1/y)
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
    def _print_Sum(self, expr: sp.Sum) -> str:
        return self.names[self.sum_loops(expr)]

    def sum_loops(self, expr: sp.Sum, into: list[tuple[str, dict]] | None = None) -> sp.Dummy | None:
        """Write the loops of a Sum, accumulating into a new variable, which is returned. With
        `into` = [(name, substitution), ...] the loops accumulate several copies of the body at
        once, each into its own named variable (unroll-and-jam)."""
        body, limits = expr.function, []
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

    def parenthesize(self, item, level, strict=False) -> str:
        # an integer division binds like `*`: inside a product it needs parentheses
        if isinstance(item, (sp.floor, sp.ceiling)) and self._quotient(item) is not None:
            s = self._print(item)
            return f"({s})" if level >= PRECEDENCE["Mul"] or item.func is sp.ceiling and level > PRECEDENCE["Add"] else s
        return super().parenthesize(item, level, strict)

    def _print_Add(self, expr, order=None) -> str:
        # positive terms first, numbers last: p - k_h + 1 (but 1 - y, not -y + 1)
        terms = sorted(self._as_ordered_terms(expr, order=order),
                       key=lambda t: (t.is_Number, t.could_extract_minus_sign()))
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


# -- the module ----------------------------------------------------------------------------------
def _names_for(spec: KernelSpec) -> dict[sp.Basic, str]:
    """Identifiers for the inputs, outputs and shape symbols, unique and readable."""
    printer = NumbaPrinter()
    for a in spec.inputs:
        printer.name(a)
    for o in spec.outputs:
        printer.name(o.base)
    for s in spec.shapes:
        printer.name(s)
    return printer.names


def array_ndims(spec: KernelSpec) -> dict[sp.IndexedBase, int]:
    """How many indices each array is read with (-1 when it is only read for its shape)."""
    ndims = {a: -1 for a in spec.arrays}
    for e in spec.exprs:
        for x in e.atoms(sp.Indexed):
            n = len(x.indices)
            if ndims.get(x.base, -1) not in (-1, n):
                from symnn.errors import InputError
                raise InputError(f"kernel {spec.name}: array {x.base} is read with {ndims[x.base]} "
                                 f"and with {n} indices")
            ndims[x.base] = n
    return ndims


def _shape_reads(printer: NumbaPrinter, spec: KernelSpec) -> None:
    ndims = array_ndims(spec)
    for arr in spec.arrays:
        axes = {ax: s for s, v in spec.shapes.items() if isinstance(v, tuple) and v[0] == arr
                for ax in [v[1]]}
        if not axes:
            continue
        if ndims[arr] > 1 and sorted(axes) == list(range(ndims[arr])):
            names = ", ".join(printer.name(axes[ax]) for ax in range(ndims[arr]))
            printer.emit(f"{names} = {printer.name(arr)}.shape")
        else:
            for ax in sorted(axes):
                printer.emit(f"{printer.name(axes[ax])} = {printer.name(arr)}.shape[{ax}]")


def comment_block(spec: KernelSpec) -> list[str]:
    """The SymPy source of the kernel, as comment lines."""
    lines = []
    for o in spec.outputs:
        eq = f"{sp.sstr(o.equation().lhs)} = {sp.sstr(o.expr)}"
        lines += textwrap.wrap(eq, 92, subsequent_indent="    ", break_on_hyphens=False)
        if not spec.elementwise:
            ranges = ", ".join(f"{v} in [{sp.sstr(lo)}, {sp.sstr(hi)}]" for v, lo, hi in spec.output_ranges(o))
            lines += textwrap.wrap(f"for {ranges}", 92, initial_indent="    ", subsequent_indent="    ")
    return ["#   " + line for line in lines]


def function_name(spec: KernelSpec) -> str:
    return identifier(spec.name.replace(".", "_").replace("-", "_"))


def kernel_module(spec: KernelSpec, lowered: list[LoweredOutput], version: str) -> str:
    """The text of the generated module (without the checksum footer)."""
    fname = function_name(spec)
    names = _names_for(spec)
    head = [f"# generated by symnn {version} from: {spec.name}"]
    if spec.doc:
        head += ["# " + line for line in textwrap.wrap(spec.doc, 94)]
    head += ["#", "# SymPy source:", *comment_block(spec), "#",
             "# symnn writes this file; edits are overwritten (see `symnn codegen show`).",
             '"""Kernel ' + spec.name + ' generated by symnn."""',
             "import math", "", "from numba import njit, prange", ""]
    if spec.elementwise:
        head[-1:-1] = ["from symnn.codegen.runtime import item  # x[k] for an array, x for a scalar"]
    meta = _metadata(spec, names, fname)
    if spec.elementwise:
        body = _elementwise_function(spec, lowered, names, fname)
    else:
        body = _shapes_function(spec, names) + ["", ""]
        checks = _reads_function(spec, lowered, names)
        if checks:
            body += checks + ["", ""]
        body += _loops_function(spec, lowered, names, fname)
        if any("np.dot(" in line for line in body):
            head[head.index("import math") + 1:head.index("import math") + 1] = ["", "import numpy as np"]
    return "\n".join(head + meta + ["", ""] + body) + "\n"


def _metadata(spec: KernelSpec, names, fname: str) -> list[str]:
    ndims = array_ndims(spec) if not spec.elementwise else {}
    inputs = []
    for a in spec.inputs:
        if spec.elementwise:              # an array or a scalar, either way
            kind, nd = ("int" if a.is_integer else "float"), -1
        elif isinstance(a, sp.IndexedBase):
            kind, nd = "array", ndims[a]
        else:
            kind, nd = ("int" if a.is_integer else "float"), 0
        inputs.append(f"({names[a]!r}, {kind!r}, {nd})")
    outputs = [f"({names[o.base]!r}, {len(o.indices)}, {o.accumulate})" for o in spec.outputs]
    return [f"NAME = {spec.name!r}", f"FUNCTION = {fname!r}",
            f"KIND = {'elementwise' if spec.elementwise else 'loops'!r}",
            f"INPUTS = ({', '.join(inputs)}{',' if len(inputs) == 1 else ''})  # name, kind, ndim",
            f"OUTPUTS = ({', '.join(outputs)}{',' if len(outputs) == 1 else ''})  # name, ndim, accumulate"]


def _derived_shapes(printer: NumbaPrinter, spec: KernelSpec) -> None:
    derived = [(s, v) for s, v in spec.shapes.items() if not isinstance(v, tuple)]
    done = {s for s, v in spec.shapes.items() if isinstance(v, tuple)}
    while derived:
        for k, (s, v) in enumerate(derived):
            if not (v.free_symbols & {d for d, _ in derived}):
                printer.emit(f"{printer.name(s)} = {printer._print(v)}")
                done.add(s)
                derived.pop(k)
                break
        else:
            from symnn.errors import InputError
            raise InputError(f"kernel {spec.name}: the derived shape symbols refer to each other in a cycle")


def _shapes_function(spec: KernelSpec, names) -> list[str]:
    p = NumbaPrinter(names=names)
    args = ", ".join(names[a] for a in spec.inputs)
    p.emit(f"def out_shapes({args}):")
    with p.indented():
        p.emit('"""The output shapes for these inputs (plain Python, run before the kernel)."""')
        _shape_reads(p, spec)
        _derived_shapes(p, spec)
        shapes = []
        for o in spec.outputs:
            dims = [p._print(d) for d in spec.out_shapes[o.base]]
            shapes.append("(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")")
        p.emit(f"return ({', '.join(shapes)}{',' if len(shapes) == 1 else ''})")
    return p.lines


def _reads_function(spec: KernelSpec, lowered: list[LoweredOutput], names) -> list[str]:
    from symnn.codegen.bounds import reads
    found = reads(spec, lowered)
    if not found:
        return []
    p = NumbaPrinter(names=names)
    p.emit(f"def reads({', '.join(names[a] for a in spec.inputs)}):")
    with p.indented():
        p.emit('"""(array, axis, lowest, highest) index the kernel reads (or writes) where the shapes '
               'alone do not fix it:\n    symnn checks them against the arrays before calling the kernel."""')
        _shape_reads(p, spec)
        _derived_shapes(p, spec)
        p.emit("return (")
        for arr, axis, low, high in found:
            p.emit(f"{INDENT}({names[arr]!r}, {axis}, {p._print(low)}, {p._print(high)}),")
        p.emit(")")
    return p.lines


def _decorator(spec: KernelSpec) -> str:
    par = ", parallel=True" if spec.parallel else ""
    fast = ', fastmath={"reassoc", "contract"}' if spec.fastmath else ""
    return f'@njit(cache=True, error_model="numpy"{par}{fast})'


def _loops_function(spec: KernelSpec, lowered: list[LoweredOutput], names, fname: str) -> list[str]:
    p = NumbaPrinter(names=names)
    args = [names[a] for a in spec.inputs] + [names[o.base] for o in spec.outputs]
    p.emit(_decorator(spec))
    p.emit(f"def {fname}({', '.join(args)}):")
    with p.indented():
        if spec.doc:
            p.emit(f'"""{spec.doc}"""' if '"""' not in spec.doc else f"# {spec.doc}")
        _shape_reads(p, spec)
        _derived_shapes(p, spec)
        k = 0
        while k < len(lowered):
            group = _same_loop_outputs(lowered, k)
            if len(group) > 1 and isinstance(group[0].expr, sp.Sum):
                _fused_outputs(p, spec, group, names)
            elif len(group) > 1:
                _fused_values(p, spec, group, names)
            else:
                _output_loops(p, spec, lowered[k], names)
            k += len(group)
    return p.lines


def _same_loop_outputs(lowered: list[LoweredOutput], k: int) -> list[LoweredOutput]:
    """lowered[k] and the outputs right after it over the same loops whose values are Sums
    with the same limits (a max-pool's maximum and its switch), or which are no Sums at all
    (the 2 × 2 max-pool's Max and its switch): they can share one pass."""
    def kind(lo):
        """The Sum's limits, "value" for an expression without Sums, None: not shareable."""
        if lo.target is not None or lo.guard or lo.output.accumulate:
            return None
        if isinstance(lo.expr, sp.Sum):
            return lo.expr.limits
        return None if lo.expr.has(sp.Sum) else "value"
    group, first = [lowered[k]], kind(lowered[k])
    if first is None:
        return group
    for lo in lowered[k + 1:]:
        if lo.loops != group[0].loops or kind(lo) != first:
            break
        group.append(lo)
    return group


def _target(p: NumbaPrinter, lo: LoweredOutput, names) -> str:
    return f"{names[lo.output.base]}[{', '.join(p.name(v) for v in lo.output.indices) or '()'}]"


def _fused_values(p: NumbaPrinter, spec: KernelSpec, group: list[LoweredOutput], names) -> None:
    """Outputs over the same loops written in one pass; what their values share is computed once."""
    depth, active = p.depth, set(p.active)
    p.open_loops(group[0].loops, parallel=spec.parallel)
    p.assign_all([(_target(p, lo, names), lo.expr) for lo in group])
    p.depth, p.active = depth, active


def _fused_outputs(p: NumbaPrinter, spec: KernelSpec, group: list[LoweredOutput], names) -> None:
    """Outputs Σ f_1, Σ f_2, ... over the same loops and limits, accumulated in one pass of the
    loops: each keeps its own accumulator and order; what their terms share is computed once."""
    depth, active = p.depth, set(p.active)
    p.open_loops(group[0].loops, parallel=spec.parallel)
    limits, bodies = [], [lo.expr.function for lo in group]
    for v, a, b in group[0].expr.limits:
        if v in p.active:
            w = sp.Dummy(v.name, integer=True)
            p.names[w] = p.fresh(identifier(v.name))
            bodies = [body.xreplace({v: w}) for body in bodies]
            v = w
        limits.append((v, a, b))
    accs = [p.temp("acc") for _ in group]
    for acc in accs:
        p.emit(f"{p.names[acc]} = 0.0")
    inner_depth = p.depth
    p.open_loops(order_loops(limits))
    p.assign_all([(p.names[acc], body) for acc, body in zip(accs, bodies)], "+=")
    p.depth = inner_depth
    for lo, acc in zip(group, accs):
        p.emit(f"{_target(p, lo, names)} = {p.names[acc]}")
    p.depth, p.active = depth, active


JAM_LIMIT = 16       # most elements jammed when the inner loops have fixed lengths


def _output_loops(p: NumbaPrinter, spec: KernelSpec, lo: LoweredOutput, names) -> None:
    """The loop nest of one output. Two rewrites keep every element's arithmetic as written
    (same terms, same order, bit for bit): a Sum that does not depend on the inner loops is
    computed once, before them (softmax's denominator, once per row); and when the output is
    Sum + rest over inner loops of fixed length, their elements are accumulated at once in
    separate variables (unroll-and-jam), so their additions, independent of each other, overlap
    in the CPU instead of waiting one for the other (the convolution's kernel gradient). Before
    both: a whole-axis product of two matrices becomes one BLAS call above BLAS_MIN."""
    depth, active = p.depth, set(p.active)
    target = _target(p, lo, names)
    op = "+=" if lo.output.accumulate else "="
    if lo.target is not None:
        _scatter_loops(p, spec, lo, names, target)
        return
    expr = lo.expr
    plain = not lo.guard and not lo.output.accumulate
    product = _matrix_product(p, spec, lo) if plain and not spec.parallel else None
    if product is not None:
        condition, call, rest = product
        p.emit(f"if {condition}:  # a product of two matrices: one BLAS call (np.dot)")
        with p.indented():
            p.emit(call)
            if rest != 0:
                p.open_loops(lo.loops)
                acc = sp.Dummy("acc")
                p.names[acc] = target
                p.statements(target, acc + rest)
                p.depth, p.active = depth + 1, set(active)
        p.emit("else:  # small sizes: the loops, in the written order")
        p.depth += 1
    loops = list(lo.loops)
    if plain:
        expr = _hoist_sums(p, expr, [v for v, _, _ in loops], -1)
    if plain and _window_outside(p, spec, lo, expr, target):
        p.depth, p.active = depth, active
        return
    inner = _jammable(expr, loops) if plain else 0
    outer = loops[:len(loops) - inner]
    for k, loop in enumerate(outer):
        p.open_loops([loop], parallel=spec.parallel and k == 0)
        if plain:
            expr = _hoist_sums(p, expr, [v for v, _, _ in loops], k)
    if inner:
        _jam(p, lo, loops[len(outer):], expr)
    else:
        expr = sp.Piecewise((expr, sp.And(*lo.guard)), (0, True)) if lo.guard else expr
        p.statements(target, expr, op)
    p.depth, p.active = depth, active


def _scatter_loops(p: NumbaPrinter, spec: KernelSpec, lo: LoweredOutput, names, target: str) -> None:
    """The scatter form (symnn.codegen.lower, step 5): clear the output, then add every term
    where it belongs; or, delinearised (step 6), write each element where its index lands."""
    depth, active = p.depth, set(p.active)
    if lo.zero:
        p.open_loops(lo.zero)
        p.emit(f"{target} = 0.0")
        p.depth, p.active = depth, set(active)
    op = "+=" if lo.zero else "="          # without a clearing pass every element is written once
    window = _scatter_window(lo)
    p.open_loops(lo.loops if window is None else window[0])
    if window is None:
        p.statements(p._print(sp.Indexed(lo.output.base, *lo.target)), lo.expr, op)
    else:
        _scatter_window_statements(p, lo, window, op)
    p.depth, p.active = depth, active


def _positions(fixed) -> list[dict]:
    """Every index combination of loops of fixed length, in the loops' order."""
    return [dict(zip([v for v, _, _ in fixed], vals))
            for vals in itertools.product(*[range(int(a), int(b) + 1) for _, a, b in fixed])]


def _read_once(p: NumbaPrinter, w: sp.Expr, positions: list[dict]) -> list[sp.Dummy]:
    """w at every window position, read into its own variable (w, w1, ...)."""
    names = []
    for sub in positions:
        names.append(p.temp("w"))
        p.emit(f"{p.names[names[-1]]} = {p._print(w.xreplace(sub))}")
    return names


def _scatter_window(lo: LoweredOutput):
    """For a scatter form dX[..., s·i + m, ...] += x·w whose window (m, n) has a fixed size and
    whose factor w (the kernel entry) does not depend on the loops inside the last one it reads:
    (outer loops, inner loops, window loops, w, x); else None."""
    if not lo.unclipped or not lo.zero:
        return None
    loops, window = list(lo.loops), []
    while loops and (loops[-1][2] - loops[-1][1] + 1).is_Integer and \
            any(loops[-1][0] in as_expr(i).free_symbols for i in lo.target):
        window.insert(0, loops.pop())
    size = math.prod(int(b - a + 1) for _, a, b in window) if window else 0
    factors = sp.Mul.make_args(lo.expr)
    if not window or size > JAM_LIMIT or len(factors) != 2:
        return None
    w_vars = [v for v, _, _ in window]
    for w in factors:
        x = factors[1] if w is factors[0] else factors[0]
        if not isinstance(w, sp.Indexed) or x.free_symbols & set(w_vars):
            continue
        used = [k for k, (v, _, _) in enumerate(loops) if v in w.free_symbols]
        last = max(used, default=-1)
        if last < len(loops) - 1 and not any((a.free_symbols | b.free_symbols) & set(w_vars)
                                             for _, a, b in loops):
            return loops[:last + 1], loops[last + 1:], window, w, x
    return None


def _scatter_window_statements(p: NumbaPrinter, lo: LoweredOutput, window, op: str) -> None:
    """The window's kernel entries read once into variables outside the pixel loops, the pixel's
    own factor once per pixel, then one statement per window position, in the loops' order:
    the same additions in the same order as the loops over the window (bit for bit)."""
    _, inner, fixed, w, x = window
    subs = _positions(fixed)
    coefficients = _read_once(p, w, subs)
    depth = p.depth
    p.open_loops(inner)
    g = p.temp("g")
    p.emit(f"{p.names[g]} = {p._print(x)}")
    for c, sub in zip(coefficients, subs):
        target = p._print(sp.Indexed(lo.output.base, *[as_expr(i).xreplace(sub) for i in lo.target]))
        p.emit(f"{target} {op} {p._print(g * c)}")
    p.depth = depth


def _window_split(lo: LoweredOutput, expr: sp.Expr):
    """For Y[outer, inner] = Σ_R Σ_F w[outer, R, F]·x[...] + rest, where R are sum indices of
    run-time length (channels), F a window of fixed size (3 × 3) and w does not depend on the
    inner output loops: (outer, inner, R, F, w, x, rest); else None."""
    total, rest = _split_sum(expr)
    if total is None or len(lo.loops) < 2:
        return None
    limits = list(total.limits)
    fixed = [(v, a, b) for v, a, b in limits if (b - a + 1).is_Integer]
    runtime = [lim for lim in limits if lim not in fixed]
    if not runtime or not fixed or limits[:len(runtime)] != runtime:
        return None
    if math.prod(int(b - a + 1) for _, a, b in fixed) > JAM_LIMIT:
        return None
    factors = sp.Mul.make_args(total.function)
    if len(factors) != 2:
        return None
    loop_vars = [v for v, _, _ in lo.loops]
    for n_inner in range(len(loop_vars) - 1, 0, -1):
        inner = loop_vars[-n_inner:]
        ws = [f for f in factors if not f.free_symbols & set(inner)]
        if len(ws) == 1 and isinstance(ws[0], sp.Indexed):
            w = ws[0]
            x = factors[1] if factors[0] is w else factors[0]
            sum_vars = {v for v, _, _ in limits}
            if (not x.free_symbols & set(inner) or rest.free_symbols & sum_vars
                    or lo.output.base in expr.atoms(sp.IndexedBase)
                    or any((a.free_symbols | b.free_symbols) & (sum_vars | set(inner))
                           for _, a, b in lo.loops[:-n_inner])):
                return None
            return lo.loops[:-n_inner], lo.loops[-n_inner:], runtime, fixed, w, x, rest
    return None


def _window_outside(p: NumbaPrinter, spec: KernelSpec, lo: LoweredOutput, expr: sp.Expr,
                    target: str) -> bool:
    """Write Y = Σ_R Σ_F w·x + rest (a convolutional layer: channels R, a fixed window F) with the
    channel loops outside the pixel loops: per channel, the window's coefficients w are read
    once into variables and each pixel adds its terms to Y[...], in the written order. Every
    element sees the same additions in the same order as `acc = 0; acc += ...; Y = acc + rest`
    (bit for bit), but the coefficients no longer reload per pixel. False when expr is not of
    that form."""
    found = _window_split(lo, expr)
    if found is None:
        return False
    outer, inner, runtime, fixed, w, x, rest = found
    p.open_loops(outer, parallel=spec.parallel)

    def pixels(statements):
        depth = p.depth
        p.open_loops(inner)
        statements()
        p.depth = depth
    pixels(lambda: p.emit(f"{target} = 0.0"))
    depth = p.depth
    p.open_loops(order_loops(runtime))
    window = _positions(fixed)
    coefficients = _read_once(p, w, window)

    def accumulate():
        acc = p.temp("acc")
        p.emit(f"{p.names[acc]} = {target}")
        for c, sub in zip(coefficients, window):
            p.emit(f"{p.names[acc]} += {p._print(c * x.xreplace(sub))}")
        p.emit(f"{target} = {p.names[acc]}")
    pixels(accumulate)
    p.depth = depth
    if rest != 0:
        acc = sp.Dummy("acc")
        p.names[acc] = target
        pixels(lambda: p.statements(target, acc + rest))
    return True


def _jam(p: NumbaPrinter, lo: LoweredOutput, inner, expr: sp.Expr) -> None:
    """Output = Sum + rest over the `inner` loops (of fixed lengths): every combination of their
    indices accumulated in its own variable, in one pass of the Sum's loops."""
    total, rest = _split_sum(expr)
    base, indices = lo.output.base, lo.output.indices
    copies = _positions(inner)
    accs = [p.temp("acc") for _ in copies]
    p.sum_loops(total, into=[(p.names[a], c) for a, c in zip(accs, copies)])
    for acc, c in zip(accs, copies):
        lhs = p._print(sp.Indexed(base, *[as_expr(i).xreplace(c) for i in indices]))
        p.statements(lhs, acc + rest.xreplace(c))


BLAS_MIN = 4096     # multiply-adds from which a matrix product goes to BLAS instead of loops


def _matrix_product(p: NumbaPrinter, spec: KernelSpec, lo: LoweredOutput):
    """(run-time condition, np.dot call, rest) when lo is O[a, b] = Σ_k L[.,.] R[.,.] + rest over
    whole axes — a product of matrices, possibly transposed — else None."""
    if len(lo.loops) != 2 or any(a != 0 for _, a, _ in lo.loops):
        return None
    total, rest = _split_sum(lo.expr)
    if total is None or len(total.limits) != 1 or total.limits[0][1] != 0:
        return None
    (k, _, k_hi), ((a, _, a_hi), (b, _, b_hi)) = total.limits[0], lo.loops
    factors = sp.Mul.make_args(total.function)
    if len(factors) != 2 or not all(isinstance(f, sp.Indexed) and len(f.indices) == 2 for f in factors):
        return None
    operands, checks = {}, []
    for f in factors:
        idx = tuple(f.indices)
        for v, hi in ((a, a_hi), (b, b_hi)):
            if set(idx) == {v, k}:
                transposed = idx == ((k, v) if v == a else (v, k))
                operands[v] = p._print(f.base) + (".T" if transposed else "")
                for axis, u in enumerate(idx):
                    extent = (k_hi if u == k else hi) + 1
                    if spec.shapes.get(extent) != (f.base, axis):     # else true by definition
                        checks.append(f"{p._print(f.base)}.shape[{axis}] == {p._print(extent)}")
    if set(operands) != {a, b} or rest.has(k):
        return None
    work = p._print((a_hi + 1) * (b_hi + 1) * (k_hi + 1))
    condition = " and ".join([f"{work} >= {BLAS_MIN}", *dict.fromkeys(checks)])
    return condition, f"np.dot({operands[a]}, {operands[b]}, {p._print(lo.output.base)})", rest


def _top_sums(expr: sp.Expr) -> list[sp.Sum]:
    """The Sums of expr that are not inside another Sum or a Piecewise."""
    if isinstance(expr, sp.Sum):
        return [expr]
    if isinstance(expr, sp.Piecewise) or not isinstance(expr, sp.Basic):
        return []
    return [s for a in expr.args for s in _top_sums(a)]


def _hoist_sums(p: NumbaPrinter, expr: sp.Expr, loop_vars: list[sp.Symbol], level: int) -> sp.Expr:
    """Write the Sums whose innermost loop variable is loop_vars[level] (-1: none of them) here,
    when inner loops follow; replace them by their accumulators."""
    if level == len(loop_vars) - 1:
        return expr
    repl = {}
    for s in _top_sums(expr):
        used = [k for k, v in enumerate(loop_vars) if v in s.free_symbols]
        if max(used, default=-1) == level and s not in repl:
            repl[s] = p.sum_loops(s)
    return expr.xreplace(repl) if repl else expr


def _split_sum(expr: sp.Expr) -> tuple[sp.Sum | None, sp.Expr]:
    """expr as (Sum, rest without Sums), or (None, expr) when it is not of that form."""
    terms = sp.Add.make_args(expr)
    sums = [t for t in terms if isinstance(t, sp.Sum)]
    if len(sums) != 1:
        return None, expr
    rest = sp.Add(*[t for t in terms if t is not sums[0]])
    if rest.has(sp.Sum):
        return None, expr
    return sums[0], rest


def _jammable(expr: sp.Expr, loops) -> int:
    """How many innermost output loops to jam into the Sum of expr = Sum + rest (0: none): the
    innermost ones of fixed length while their product stays <= JAM_LIMIT (a loop of run-time
    length stops the count: jamming along one was slower for the small 8x8 convolutions, as the
    index arithmetic, not the additions, bounds those loops). The outermost loop (the parallel
    one, when there is one) always stays outside."""
    total, _ = _split_sum(expr)
    if total is None or len(loops) < 2 or loops[-1][0] not in total.function.free_symbols:
        return 0
    bound = set().union(*[(a.free_symbols | b.free_symbols) for _, a, b in total.limits],
                        *[(lo.free_symbols | hi.free_symbols) for _, lo, hi in loops])
    count, size = 0, 1
    for v, a, b in reversed(loops[1:]):
        n = b - a + 1
        if v in bound:
            break
        if not n.is_Integer:
            return count
        if size * int(n) > JAM_LIMIT:
            break
        size *= int(n)
        count += 1
    return count


def _elementwise_function(spec: KernelSpec, lowered: list[LoweredOutput], names, fname: str) -> list[str]:
    p = NumbaPrinter(names=dict(names))
    k = p.fresh("k")
    used = set().union(*(lo.expr.free_symbols for lo in lowered))
    loads = []
    for a in spec.inputs:                        # z_k = item(z, k): z[k], or z for a scalar
        if a in used:
            p.names[a] = p.fresh(f"{names[a]}_{k}")
            loads.append(f"{p.names[a]} = item({names[a]}, {k})")
    outs = [names[o.base] for o in spec.outputs]
    p.emit(_decorator(spec))
    p.emit(f"def {fname}({', '.join([names[a] for a in spec.inputs] + outs)}):")
    with p.indented():
        if spec.doc:
            p.emit(f'"""{spec.doc}"""' if '"""' not in spec.doc else f"# {spec.doc}")
        rng = "prange" if spec.parallel else "range"
        p.emit(f"for {k} in {rng}({outs[0]}.shape[0]):")
        with p.indented():
            for line in loads:
                p.emit(line)
            p.assign_all([(f"{o}[{k}]", lo.expr) for o, lo in zip(outs, lowered)])
    return p.lines
