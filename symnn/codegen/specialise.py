"""Specialisation: a registered kernel with some size symbols fixed to numbers.

    label = register_specialised("conv2d.layer_forward", k_h=3, k_w=3, s=1)
    # -> 'conv2d.layer_forward[k_h=3,k_w=3,s=1]', a registered name; its factory runs only when built
    specialised("maxpool.forward", k_h=2, k_w=2, s=2)     # the kernel itself

The loops over a fixed window get constant trip counts, which LLVM unrolls. The signature is
unchanged (the fixed arguments are then ignored), so call it only with inputs of those sizes.
`fastmath` compiles with sums reassociated ('name[fastmath,...]'): vectorised, but no longer in
the written order. `exact` ('name[exact,...]') keeps the written order at every size: the passes
that hand sums to BLAS (blas, unfold, fold) leave it to its loops. `unfold` ('name[unfold,...]')
lets the unfold and fold passes run its window sums as BLAS matrix products above UNFOLD_MIN.

A kernel module may declare another form of its outputs for given sizes, one that a derivation
proves equal (the 2 × 2 max-pool as Max(x_0, …, x_3)):

    @special_form("maxpool.forward")
    def max_2x2(values, outputs) -> (outputs, note or None): ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from symnn.codegen.registry import factory, kernel, register

if TYPE_CHECKING:
    from symnn.codegen.kernel import Kernel
    from symnn.codegen.spec import KernelSpec, Output

Form = Callable[[dict[str, int], list["Output"]], tuple[list["Output"], "str | None"]]
_FORMS: dict[str, Form] = {}


def special_form(name: str) -> Callable[[Form], Form]:
    """Decorator: declare another form of kernel `name`'s outputs for some fixed sizes."""

    def deco(form: Form) -> Form:
        _FORMS[name] = form
        return form

    return deco


def label(name: str, fastmath: bool = False, exact: bool = False, unfold: bool = False, **values: int) -> str:
    """'name[fastmath,exact,unfold,k_h=3,...]': the registered name of a specialisation."""
    tags = (["fastmath"] if fastmath else []) + (["exact"] if exact else []) + (["unfold"] if unfold else [])
    tags += [f"{k}={int(v)}" for k, v in sorted(values.items())]
    return f"{name}[{','.join(tags)}]"


MAX_FIXED = 32  # the largest size a specialisation asked for by its label may fix (an unrolled loop)


def parse_label(text: str) -> tuple[str, bool, dict[str, int]] | None:
    """label()'s inverse: 'conv2d.layer_forward[k_h=3,k_w=3,s=1]' -> (name, fastmath, values),
    with values["exact"] = 1 and values["unfold"] = 1 for those tags; None when text is not such a
    label (or fixes a size outside 1..MAX_FIXED)."""
    import re

    m = re.fullmatch(r"([A-Za-z0-9_.\-]+)\[([A-Za-z0-9_=,]*)\]", text)
    if not m:
        return None
    fastmath, values = False, dict[str, int]()
    for tag in filter(None, m[2].split(",")):
        if tag == "fastmath" and not values:
            fastmath = True
            continue
        if tag in ("exact", "unfold") and tag not in values and not set(values) - {"exact", "unfold"}:
            values[tag] = 1
            continue
        key, _, value = tag.partition("=")
        if not (key.isidentifier() and value.isdigit() and 1 <= int(value) <= MAX_FIXED) or key in values:
            return None
        values[key] = int(value)
    return m[1], fastmath, values


def register_specialised(
    name: str, fastmath: bool = False, exact: bool = False, unfold: bool = False, **values: int
) -> str:
    """Register kernel `name` with the size symbols `values` fixed, under label(...) (returned);
    `exact`: in the written order of additions at every size (no BLAS); `unfold`: window sums as
    BLAS matrix products above UNFOLD_MIN (symnn.codegen.passes.unfold)."""
    exact = exact or bool(values.pop("exact", 0))
    unfold = unfold or bool(values.pop("unfold", 0))
    tag = label(name, fastmath, exact, unfold, **values)

    def make() -> KernelSpec:
        import sympy as sp

        from symnn.codegen.spec import KernelSpec, Output

        spec = factory(name)()
        symbols = set().union(
            *(o.expr.free_symbols for o in spec.outputs),
            spec.scalars,
            spec.shapes,
            *(e.free_symbols for sh in spec.out_shapes.values() for e in sh),
        )
        sub = {
            sym: sp.Integer(values[sym.name]) for sym in symbols if isinstance(sym, sp.Symbol) and sym.name in values
        }
        outputs = [
            Output(
                o.base,
                o.indices,
                o.expr.xreplace(sub),
                ranges={v: (lo.xreplace(sub), hi.xreplace(sub)) for v, (lo, hi) in o.ranges.items()},
                accumulate=o.accumulate,
            )
            for o in spec.outputs
        ]
        notes = []
        if values:
            fixed = ", ".join(f"{k} = {int(v)}" for k, v in sorted(values.items()))
            notes.append(f"specialised to {fixed} (those arguments are ignored)")
        if name in _FORMS:
            outputs, note = _FORMS[name](values, outputs)
            notes += [note] if note else []
        if fastmath:
            notes.append("fastmath: sums reassociated")
        if exact:
            notes.append("exact: the written order of additions at every size (no BLAS)")
        if unfold:
            notes.append("unfold: window sums as BLAS matrix products above UNFOLD_MIN multiply-adds")
        return KernelSpec(
            tag,
            inputs=spec.inputs,
            outputs=outputs,
            shapes=spec.shapes,
            out_shapes={b: tuple(e.xreplace(sub) for e in sh) for b, sh in spec.out_shapes.items()},
            parallel=spec.parallel,
            fastmath=fastmath or spec.fastmath,
            exact=exact or spec.exact,
            unfold=unfold or spec.unfold,
            doc=" — ".join([spec.doc, *notes]),
        )

    register(tag)(make)
    return tag


def specialised(name: str, fastmath: bool = False, exact: bool = False, unfold: bool = False, **values: int) -> Kernel:
    """The kernel of register_specialised(name, fastmath, exact, unfold, **values), built or
    loaded from the cache (a warm start finds it through the cache index, without SymPy)."""
    return kernel(register_specialised(name, fastmath, exact, unfold, **values))
