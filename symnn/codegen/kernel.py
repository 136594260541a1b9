"""Kernel: a generated, compiled kernel as a callable.

It checks and converts the arguments, allocates the outputs (or takes `out=`), and calls the
Numba dispatcher of the generated module. Its metadata (INPUTS, OUTPUTS, out_shapes) comes from
that module, so a kernel loaded from the cache needs no SymPy at all; `.spec` and `.expr` run
the registered factory on first access.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from symnn.errors import InputError

if TYPE_CHECKING:  # SymPy loads lazily: a cached kernel runs without it
    import sympy as sp

    from symnn.codegen.spec import KernelSpec


class Kernel:
    """A generated kernel. Call it with the spec's inputs in order; it returns the output array
    (a tuple for several outputs). `out=` (an array, or a tuple of them) reuses buffers."""

    def __init__(
        self,
        name: str,
        path: Path,
        module: types.ModuleType,
        source: str,
        spec: KernelSpec | None = None,
        factory: Callable[[], Any] | None = None,
        dynamic: bool = False,
    ) -> None:
        self.name = name
        self.path = Path(path)
        self.module = module
        self.source = source
        self.dynamic = dynamic
        self.dispatcher = getattr(module, module.FUNCTION)
        self.inputs: tuple = module.INPUTS
        self.outputs: tuple = module.OUTPUTS
        self.elementwise = module.KIND == "elementwise"
        self._out_shapes = getattr(module, "out_shapes", None)
        self._reads = getattr(module, "reads", None)
        self._spec = spec
        self._factory = factory

    # -- the SymPy side (lazy) ------------------------------------------------------------------
    @property
    def spec(self) -> KernelSpec:
        """The KernelSpec it was generated from (runs the registered factory if needed)."""
        if self._spec is None:
            if self._factory is None:
                raise InputError(
                    f"kernel {self.name}: its spec is not available in this process; "
                    "build it with symnn.codegen.build(spec)"
                )
            self._spec = self._factory()
        return self._spec

    @property
    def expr(self) -> sp.Expr | list[sp.Expr]:
        """The SymPy expression it computes (a list when it has several outputs)."""
        exprs = self.spec.exprs
        return exprs[0] if len(exprs) == 1 else exprs

    @property
    def signature(self) -> str:
        ins = ", ".join(n for n, _, _ in self.inputs)
        outs = ", ".join(n for n, _, _ in self.outputs)
        return f"{self.name}({ins}) -> {outs}"

    def __repr__(self) -> str:
        return f"<Kernel {self.signature} at {self.path}>"

    # -- calling -------------------------------------------------------------------------------
    def __call__(
        self, *args: Any, out: np.ndarray | tuple[np.ndarray, ...] | None = None
    ) -> np.ndarray | tuple[np.ndarray, ...]:
        if len(args) != len(self.inputs):
            names = ", ".join(n for n, _, _ in self.inputs)
            raise InputError(f"kernel {self.name} takes {len(self.inputs)} arguments ({names}); got {len(args)}")
        if self.elementwise:
            return self._call_elementwise(args, out)
        return self._call_loops(args, out)

    def _scalar(self, name: str, kind: str, value):
        try:
            if kind == "int":
                v = float(value)
                if not v.is_integer():
                    raise ValueError
                return int(v)
            return float(value)
        except (TypeError, ValueError):
            what = "an integer" if kind == "int" else "a number"
            raise InputError(f"kernel {self.name}: {name} must be {what} (got {value!r})") from None

    def _array(self, name: str, value, ndim: int) -> np.ndarray:
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise InputError(f"kernel {self.name}: {name} must hold numbers (got dtype {arr.dtype})")
        if ndim >= 0 and arr.ndim != ndim:
            raise InputError(f"kernel {self.name}: {name} must be a {ndim}-D array (got shape {arr.shape})")
        return arr if arr.flags.c_contiguous else np.ascontiguousarray(arr)

    def _outputs(self, out, shapes: list[tuple], dtype) -> list[np.ndarray]:
        names = [n for n, _, _ in self.outputs]
        if out is None:
            for n, shape in zip(names, shapes):
                if any(d < 0 for d in shape):
                    raise InputError(
                        f"kernel {self.name}: these input shapes give {n} the shape {shape}; the inputs are too small"
                    )
            return [np.zeros(shape, dtype) for shape in shapes]
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        if len(outs) != len(names):
            raise InputError(f"kernel {self.name}: out= takes {len(names)} array(s) ({', '.join(names)})")
        for n, o, shape in zip(names, outs, shapes):
            if not isinstance(o, np.ndarray) or o.shape != tuple(shape) or o.dtype.kind != "f":
                got = o.shape if isinstance(o, np.ndarray) else type(o).__name__
                raise InputError(
                    f"kernel {self.name}: out {n} must be a float array of shape {tuple(shape)} (got {got})"
                )
            if not o.flags.writeable:
                raise InputError(f"kernel {self.name}: out {n} is read-only")
        return outs

    def _call_loops(self, args, out):
        values, f32 = [], None
        for (name, kind, ndim), a in zip(self.inputs, args):
            if kind == "array":
                arr = self._array(name, a, ndim)
                f32 = (f32 is not False) and arr.dtype == np.float32
                values.append(arr)
            else:
                values.append(self._scalar(name, kind, a))
        if not f32:  # one float type for all arrays (BLAS needs it)
            values = [
                v.astype(np.float64) if isinstance(v, np.ndarray) and v.dtype == np.float32 else v for v in values
            ]
        shapes = [tuple(int(d) for d in s) for s in self._out_shapes(*values)]
        outs = self._outputs(out, shapes, np.float32 if f32 else np.float64)
        if self._reads is not None and all(math.prod(s) > 0 for s in shapes):
            self._check_reads(values, shapes)
        self.dispatcher(*values, *outs)
        return outs[0] if len(outs) == 1 else tuple(outs)

    def _check_reads(self, values, out_shapes: list[tuple]) -> None:
        """Refuse arrays the kernel would read past, and inputs that would make it write past its
        output (Numba does not check bounds)."""
        if self._reads is None:
            raise ValueError(f"kernel {self.name}: its module defines no reads() to check the inputs with")
        arrays = {n: v for (n, _, _), v in zip(self.inputs, values)}
        outputs = {n: shape for (n, _, _), shape in zip(self.outputs, out_shapes)}
        for name, axis, low, high in self._reads(*values):
            size = outputs[name][axis] if name in outputs else arrays[name].shape[axis]
            if high >= low and (low < 0 or high >= size):
                given = ", ".join(f"{n} {v.shape}" for n, v in arrays.items() if isinstance(v, np.ndarray))
                if name in outputs:
                    raise InputError(
                        f"kernel {self.name}: these inputs do not fit together: with "
                        f"{given} it would write {name} up to index {int(high)} along "
                        f"axis {axis}, which has size {size}"
                    )
                raise InputError(
                    f"kernel {self.name}: {name} is too small: with these inputs "
                    f"({given}) it reads {name} up to index {int(high)} along axis {axis}, "
                    f"which has size {size}"
                )

    def _call_elementwise(self, args, out):
        values, arrays, f32 = [], [], None
        for (name, kind, _), a in zip(self.inputs, args):
            if not isinstance(a, np.ndarray):
                a = a if isinstance(a, (int, float, np.number)) else np.asarray(a)
            if isinstance(a, np.ndarray) and a.ndim > 0:
                if a.dtype.kind not in "biuf":
                    raise InputError(f"kernel {self.name}: {name} must hold numbers (got dtype {a.dtype})")
                f32 = (f32 is not False) and a.dtype == np.float32
                arrays.append(len(values))
            else:
                a = self._scalar(name, kind, a)
            values.append(a)
        shapes = {values[k].shape for k in arrays}
        if len(shapes) > 1:
            try:
                shape = np.broadcast_shapes(*shapes)
            except ValueError:
                raise InputError(f"kernel {self.name}: the argument shapes {sorted(shapes)} do not match") from None
            for k in arrays:
                values[k] = np.broadcast_to(values[k], shape)
        else:
            shape = shapes.pop() if shapes else ()
        for k in arrays:
            values[k] = values[k].reshape(-1)  # a view when contiguous, else a copy
        outs = self._outputs(out, [shape] * len(self.outputs), np.float32 if f32 else np.float64)
        size = math.prod(shape)
        direct = [o.reshape(-1) if o.flags.c_contiguous else np.empty(size, o.dtype) for o in outs]
        self.dispatcher(*values, *direct)
        for o, d in zip(outs, direct):
            if not o.flags.c_contiguous:
                o[...] = d.reshape(shape)
        if shape == ():
            outs = [o[()] for o in outs]
        return outs[0] if len(outs) == 1 else tuple(outs)
