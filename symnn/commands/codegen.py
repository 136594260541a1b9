"""`symnn codegen list | show NAME | clear`: the generated kernels and their cache."""

from __future__ import annotations

import argparse

ACTIONS = ("list", "show", "clear")
FORMATS = ("text", "latex")


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser(
        "list", help="the kernels: built or not, and where", description="List every kernel symnn can generate."
    )
    show = sub.add_parser(
        "show",
        help="the exact generated source of one kernel",
        description="Print the derived expression and the exact generated source that runs for NAME.",
    )
    show.add_argument("name", metavar="NAME", help="the kernel name (see `symnn codegen list`)")
    show.add_argument(
        "--format", choices=FORMATS, default="text", help="how to print the SymPy expression (default: text)"
    )
    sub.add_parser(
        "clear", help="empty the kernel cache", description="Remove the generated kernels and symnn's cached files."
    )


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        return _list()
    if args.action == "clear":
        return _clear()
    return _show(args.name, args.format)


def _list() -> int:
    from symnn.codegen import cache, names

    rows = []
    entries = cache.index_entries()
    built = {e["name"]: e for e in entries if not e.get("dynamic")}
    for name in names():
        e = built.get(name)
        path = cache.cache_dir() / e["module"] if e else None
        ok = path is not None and path.exists()
        rows.append((name, "built" if ok else "not built", "registered", str(path) if ok else "-"))
    for e in entries:
        if e.get("dynamic"):
            path = cache.cache_dir() / e["module"]
            if path.exists():
                rows.append((e["name"], "built", "dynamic", str(path)))
    if not rows:
        print("no kernels")
        return 0
    widths = [max(len(r[c]) for r in rows) for c in range(3)]
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}")
    return 0


def _clear() -> int:
    from symnn.codegen import cache_dir, clear_cache

    n = clear_cache()
    print(f"removed {n} file{'s' if n != 1 else ''} from {cache_dir()}")
    return 0


def _show(name: str, fmt: str) -> int:
    from symnn.codegen import cache, kernel, names
    from symnn.errors import unknown

    dynamic = {e["name"]: e for e in cache.index_entries() if e.get("dynamic")}
    source: str | None
    if name not in names() and name not in dynamic:
        _register_label(name, names())
    if name in names():
        k = kernel(name)
        equations, doc, path, source = k.spec.equations(), k.spec.doc, k.path, k.source
        ranges = [_ranges(k.spec, o) for o in k.spec.outputs]
    elif name in dynamic:
        e = dynamic[name]
        path = _module_path(cache.cache_dir(), e.get("module"))
        source, problem = cache.read_module(path) if path else (None, None)
        if source is None:
            raise unknown("kernel", name, names())
        equations, doc = _stored_equations(e), ""
        ranges = [""] * len(equations)
    else:
        raise unknown("kernel", name, [*names(), *dynamic])
    print(f"kernel {name}" + (f" — {doc}" if doc else ""))
    print("SymPy expression:" if len(equations) == 1 else "SymPy expressions:")
    for eq, rng in zip(equations, ranges):
        print("  " + (_latex(eq) if fmt == "latex" else _text(eq)))
        if rng:
            print("  " + rng)
    print(f"generated module: {path}")
    print()
    print(source, end="")
    return 0


def _register_label(name: str, known: list[str]) -> None:
    """A specialisation named by its label ('maxpool.forward[k_h=2,k_w=2,s=2]', as `symnn info`
    lists it) is registered, so `show` builds it even before any training has."""
    from symnn.codegen.specialise import parse_label, register_specialised

    parsed = parse_label(name)
    if parsed and parsed[0] in known:
        values = dict(parsed[2])
        exact, unfold = bool(values.pop("exact", 0)), bool(values.pop("unfold", 0))
        register_specialised(parsed[0], parsed[1], exact, unfold, **values)


def _module_path(root, module):
    """The module an index entry names, only if it is a file name inside the cache folder."""
    if not isinstance(module, str) or not module:
        return None
    path = (root / module).resolve()
    return path if path.is_relative_to(root.resolve()) else None


def _stored_equations(entry: dict) -> list:
    """The equations an index entry stores as srepr text, rebuilt without eval (symnn.parse);
    an entry that cannot be read shows no equations rather than stopping `show`."""
    import warnings

    import sympy as sp

    import symnn.ops.functions  # noqa: F401 - symnn's functions, found by name
    from symnn.errors import InputError, SymnnWarning
    from symnn.parse import read_srepr

    texts = entry.get("srepr")
    try:
        if not isinstance(texts, list):
            raise InputError("the index entry has no list of equations")
        equations = [read_srepr(t) for t in texts]
        if not all(isinstance(eq, sp.Equality) for eq in equations):
            raise InputError("an entry is not an equation")
        return equations
    except (InputError, ValueError, TypeError, ArithmeticError, AttributeError, RecursionError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        what = f"kernel {entry.get('name')!r}: its stored equations cannot be shown ({reason})"
        warnings.warn(what, SymnnWarning, stacklevel=2)
        return []


def _ranges(spec, out) -> str:
    if spec.elementwise:
        return ""
    import sympy as sp

    return "for " + ", ".join(f"{v} in [{sp.sstr(lo)}, {sp.sstr(hi)}]" for v, lo, hi in spec.output_ranges(out))


def _text(eq) -> str:
    try:
        from symnn.render.text import show

        return f"{show(eq.lhs)} = {show(eq.rhs)}"
    except Exception:  # noqa: BLE001 - the plain form is always there
        import sympy as sp

        return f"{sp.sstr(eq.lhs)} = {sp.sstr(eq.rhs)}"


def _latex(eq) -> str:
    try:
        from symnn.render.latex import tex

        return f"\\[ {tex(eq.lhs)} = {tex(eq.rhs)} \\]"
    except Exception:  # noqa: BLE001
        import sympy as sp

        return f"\\[ {sp.latex(eq.lhs)} = {sp.latex(eq.rhs)} \\]"
