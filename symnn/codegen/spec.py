"""The records that describe a kernel to generate: `KernelSpec`, its `Output`s, and
`elementwise()` for expressions in scalar symbols.

A spec is pure data (SymPy objects, names, flags). `KernelSpec.key()` is its canonical text
(`srepr` of every part), from which the cache names the generated module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sympy as sp

from symnn.errors import InputError
from symnn.parse import as_expr

Bound = tuple[sp.Expr, sp.Expr]


@dataclass(frozen=True)
class Output:
    """One output array: `base[indices] = expr` (or `+=` when accumulate) for every index in
    `ranges` (inclusive bounds; an index missing from ranges runs over its output axis)."""

    base: sp.IndexedBase
    indices: tuple[sp.Symbol, ...]
    expr: sp.Expr
    ranges: Mapping[sp.Symbol, Bound] = field(default_factory=dict)
    accumulate: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "indices", tuple(self.indices))
        object.__setattr__(self, "expr", as_expr(self.expr))
        object.__setattr__(self, "ranges", {v: (as_expr(lo), as_expr(hi)) for v, (lo, hi) in dict(self.ranges).items()})

    @property
    def name(self) -> str:
        return str(self.base.label)

    def equation(self) -> sp.Eq:
        """`base[indices] = expr` as a SymPy equation (a scalar symbol for elementwise outputs)."""
        lhs = self.base[self.indices] if self.indices else sp.Symbol(self.name)
        return sp.Eq(lhs, self.expr, evaluate=False)


@dataclass
class KernelSpec:
    """A kernel: arrays and scalars in (`inputs`, in call order), arrays out.

    inputs      IndexedBase = array argument, Symbol = scalar argument
    outputs     what to compute, one loop nest per Output
    shapes      shape symbol -> (input array, axis), read at run time, or -> an expression in
                other shape symbols (H: H_o + k_h - 1 when only the gradient G is at hand)
    out_shapes  output base -> its shape, in shape symbols and scalar inputs
    parallel    numba prange over each output's outermost loop
    elementwise the outputs are scalar expressions of the (scalar-symbol) inputs, applied
                element by element over arrays of any shape (built by `elementwise()`)
    fastmath    let LLVM reassociate sums (and fuse multiply-adds): reductions vectorise (bench/mlp.py's
                fastmath rows), but the summation order is no longer the written one
    exact       keep the written order of additions at every size: the passes that hand a sum to
                BLAS (blas, unfold, fold) leave this kernel to its loops
    unfold      let the unfold and fold passes run window sums (convolutions) as matrix products in
                BLAS above UNFOLD_MIN multiply-adds (im2col / col2im + np.dot): asked for by the
                layers for large calls only, since np.dot and the unfolding loops make the kernel
                several times slower to compile
    """

    name: str
    inputs: Sequence[sp.Basic]
    outputs: Sequence[Output]
    shapes: Mapping[sp.Symbol, tuple[sp.IndexedBase, int] | sp.Expr] = field(default_factory=dict)
    out_shapes: Mapping[sp.IndexedBase, tuple] = field(default_factory=dict)
    parallel: bool = False
    doc: str = ""
    elementwise: bool = False
    fastmath: bool = False
    exact: bool = False
    unfold: bool = False

    def __post_init__(self) -> None:
        self.inputs = list(self.inputs)
        self.outputs = list(self.outputs)
        self.shapes = {
            s: (v[0], int(v[1])) if isinstance(v, tuple) else as_expr(v) for s, v in dict(self.shapes).items()
        }
        self.out_shapes = {b: tuple(as_expr(e) for e in shape) for b, shape in dict(self.out_shapes).items()}
        self.validate()

    # -- views -------------------------------------------------------------------------------
    @property
    def arrays(self) -> list[sp.IndexedBase]:
        return [a for a in self.inputs if isinstance(a, sp.IndexedBase)]

    @property
    def scalars(self) -> list[sp.Symbol]:
        return [a for a in self.inputs if isinstance(a, sp.Symbol)]

    @property
    def exprs(self) -> list[sp.Expr]:
        return [o.expr for o in self.outputs]

    def equations(self) -> list[sp.Eq]:
        return [o.equation() for o in self.outputs]

    def output_ranges(self, out: Output) -> list[tuple[sp.Symbol, sp.Expr, sp.Expr]]:
        """(index, lo, hi) for each output index, defaulting to the whole output axis."""
        shape = self.out_shapes.get(out.base, ())
        ranges = []
        for axis, v in enumerate(out.indices):
            if v in out.ranges:
                ranges.append((v, *out.ranges[v]))
            elif axis < len(shape):
                ranges.append((v, sp.S.Zero, shape[axis] - 1))
            else:
                raise InputError(
                    f"kernel {self.name}: output {out.name} index {v} has no range "
                    f"and no out_shapes entry; give ranges={{{v}: (lo, hi)}}"
                )
        return ranges

    def key(self) -> str:
        """Canonical text of the spec: equal specs give equal keys (the cache hashes it)."""

        def s(x):
            return sp.srepr(x)

        parts = [
            f"name={self.name!r}",
            f"elementwise={self.elementwise}",
            f"parallel={self.parallel}",
            f"fastmath={self.fastmath}",
            *(["exact=True"] if self.exact else []),
            *(["unfold=True"] if self.unfold else []),
            f"doc={self.doc!r}",
            "inputs=" + ";".join(s(a) for a in self.inputs),
        ]
        for o in self.outputs:
            ranges = ",".join(
                f"{s(v)}:{s(lo)}:{s(hi)}" for v, (lo, hi) in sorted(o.ranges.items(), key=lambda kv: kv[0].name)
            )
            parts.append(
                f"output={s(o.base)}|{';'.join(s(i) for i in o.indices)}|{s(o.expr)}|{ranges}|acc={o.accumulate}"
            )
        parts.append(
            "shapes="
            + ";".join(
                f"{s(k)}:{s(v[0])}:{v[1]}" if isinstance(v, tuple) else f"{s(k)}={s(v)}"
                for k, v in sorted(self.shapes.items(), key=lambda kv: kv[0].name)
            )
        )
        parts.append(
            "out_shapes="
            + ";".join(
                f"{s(b)}:{','.join(s(e) for e in sh)}"
                for b, sh in sorted(self.out_shapes.items(), key=lambda kv: str(kv[0]))
            )
        )
        return "\n".join(parts)

    # -- checks --------------------------------------------------------------------------------
    def validate(self) -> None:
        where = f"kernel {self.name}"
        if not self.outputs:
            raise InputError(f"{where}: give at least one Output")
        for a in self.inputs:
            if not isinstance(a, (sp.IndexedBase, sp.Symbol)):
                raise InputError(f"{where}: input {a!r} must be an IndexedBase (array) or a Symbol (scalar)")
        labels = [str(a.label) if isinstance(a, sp.IndexedBase) else a.name for a in self.inputs]
        labels += [o.name for o in self.outputs]
        if len(set(labels)) != len(labels):
            raise InputError(f"{where}: argument names must differ (got {', '.join(labels)})")
        arrays = set(self.arrays)
        for sym, v in self.shapes.items():
            if not isinstance(v, tuple):
                if v.free_symbols - set(self.shapes) - set(self.scalars):
                    raise InputError(
                        f"{where}: shape symbol {sym} = {v} uses symbols that are not shape symbols or scalar inputs"
                    )
                continue
            arr, axis = v
            if arr not in arrays:
                raise InputError(f"{where}: shape symbol {sym} is read from {arr}, which is not an input array")
            if axis < 0:
                raise InputError(f"{where}: shape symbol {sym}: axis must be >= 0 (got {axis})")
        if self.elementwise:
            for o in self.outputs:
                extra = o.expr.free_symbols - set(self.scalars)
                if extra:
                    raise InputError(
                        f"{where}: {o.expr} uses {sorted(map(str, extra))}, "
                        f"which are not among the arguments {labels[: len(self.inputs)]}"
                    )
            return
        known = set(self.scalars) | set(self.shapes)
        for o in self.outputs:
            if o.base in arrays:
                raise InputError(f"{where}: output {o.name} is also an input")
            if o.base not in self.out_shapes:
                raise InputError(f"{where}: output {o.name} needs an out_shapes entry")
            if len(self.out_shapes[o.base]) != len(o.indices):
                raise InputError(
                    f"{where}: output {o.name} has {len(o.indices)} indices but "
                    f"out_shapes gives {len(self.out_shapes[o.base])} axes"
                )
            used = {x.base for x in o.expr.atoms(sp.Indexed)}
            if used - arrays:
                raise InputError(
                    f"{where}: {o.name} reads {sorted(map(str, used - arrays))}, which are not input arrays"
                )
            free = o.expr.free_symbols - set(o.indices) - known
            free = {s for s in free if not isinstance(s, (sp.Indexed, sp.IndexedBase))}
            free -= {b.label for b in used}
            if free:
                raise InputError(
                    f"{where}: {o.name} uses {sorted(map(str, free))}: each symbol must be "
                    "an output index, a Sum index, a shape symbol or a scalar input"
                )


def elementwise(
    name: str, args: Sequence[sp.Symbol], exprs: Sequence[sp.Expr], doc: str = "", outputs: Sequence[str] | None = None
) -> KernelSpec:
    """A spec applying `exprs` (in the scalar symbols `args`) element by element: the kernel takes
    one array (or scalar) per arg, all of one shape, and returns one array per expression."""
    exprs = [as_expr(e) for e in exprs]
    if outputs is None:
        outputs = ["out"] if len(exprs) == 1 else [f"out{k}" for k in range(len(exprs))]
    if len(outputs) != len(exprs):
        raise InputError(f"kernel {name}: {len(exprs)} expressions but {len(outputs)} output names")
    outs = [Output(sp.IndexedBase(o), (), e) for o, e in zip(outputs, exprs)]
    return KernelSpec(name, inputs=list(args), outputs=outs, doc=doc, elementwise=True)
