"""Named kernels, built on first use and loaded from the cache afterwards.

    @register("conv2d.forward")          # a zero-argument factory returning a KernelSpec;
    def _forward() -> KernelSpec: ...    # it runs SymPy, so it only runs when needed

    kernel("conv2d.forward")             # -> Kernel: from this process, else the cache index,
                                         #    else run the factory, generate, compile, cache
    build(spec)                          # -> Kernel for a spec made on the fly (not registered)

Factories live in the modules of the stages that own kernels (symnn.KERNEL_PROVIDERS: the
kernels and vision stages), imported when the names are listed or an unknown name is asked
for. A warm start (a second process) finds a registered kernel through the cache index, keyed
by the name and a fingerprint of every symnn source file, without importing the provider or
running its factory.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from symnn.codegen import cache, writer
from symnn.codegen.kernel import Kernel
from symnn.errors import unknown

if TYPE_CHECKING:
    from symnn.codegen.spec import KernelSpec

Factory = Callable[[], "KernelSpec"]
_FACTORIES: dict[str, Factory] = {}
_LOADED: dict[tuple[str, str], Kernel] = {}  # (cache dir, name or hash) -> kernel
_imported: set[str] = set()
_indexed: set[tuple[str, str]] = set()  # dynamic kernels already in the index


def register(name: str) -> Callable[[Factory], Factory]:
    """Decorator: make a zero-argument KernelSpec factory available as kernel(name)."""

    def deco(factory: Factory) -> Factory:
        _FACTORIES[name] = factory
        return factory

    return deco


def _import_providers() -> None:
    """Import every module that registers kernels. codegen names none of them: the stages that
    own kernels are listed by the top package (symnn.KERNEL_PROVIDERS), each listing its
    modules in MODULES."""
    import symnn

    for package in symnn.KERNEL_PROVIDERS:
        for module in importlib.import_module(package).MODULES:
            if module not in _imported:
                importlib.import_module(module)
                _imported.add(module)


def names() -> list[str]:
    """Every registered kernel name (imports the providers)."""
    _import_providers()
    return sorted(_FACTORIES)


def factory(name: str) -> Factory:
    if name not in _FACTORIES:
        _import_providers()
    if name not in _FACTORIES:
        raise unknown("kernel", name, _FACTORIES)
    return _FACTORIES[name]


def kernel(name: str) -> Kernel:
    """The registered kernel `name`, built or loaded from the cache."""
    key = (str(cache.cache_dir()), name)
    if key in _LOADED:
        return _LOADED[key]
    entry = cache.index_lookup(name)
    k = _load(entry, lambda: factory(name)()) if entry else None
    if k is None:
        spec = factory(name)()
        k = _build(spec, name=name)
        _record(k, spec, dynamic=False)
    _LOADED[key] = k
    return k


def build(spec: KernelSpec) -> Kernel:
    """A kernel for a spec made on the fly (e.g. a filter specialised to its coefficients);
    cached by the spec's hash and listed as dynamic by `symnn codegen list`."""
    k = _build(spec, name=spec.name)
    if (str(cache.cache_dir()), k.path.name) not in _indexed:
        k.dynamic = True
        _record(k, spec, dynamic=True)
        _indexed.add((str(cache.cache_dir()), k.path.name))
    return k


def clear_cache() -> int:
    """Empty the cache directory (and forget the kernels loaded here); return the file count."""
    _LOADED.clear()
    _indexed.clear()
    return cache.clear()


def cache_dir() -> Path:
    return cache.cache_dir()


# -- building and loading (the module writer does the files) -------------------------------------
def _record(k: Kernel, spec: KernelSpec, dynamic: bool) -> None:
    import sympy as sp

    writer.record(
        k.name,
        k.path,
        dynamic=dynamic,
        equations=[sp.sstr(e) for e in spec.equations()],
        srepr=[sp.srepr(e) for e in spec.equations()],
    )


def _load(entry: dict, spec_factory: Callable | None) -> Kernel | None:
    """A kernel from an (already checked) index entry, or None (after one warning) if its module
    is damaged or does not import."""
    return writer.open_entry(
        entry,
        lambda path, text, module: Kernel(
            entry["name"], path, module, text, factory=spec_factory, dynamic=entry["dynamic"]
        ),
    )


def _build(spec: KernelSpec, name: str) -> Kernel:
    """Generate (unless an intact module is cached), write, import."""
    key_h = cache.spec_hash(spec.key())
    mem = (str(cache.cache_dir()), key_h)
    if mem in _LOADED:
        return _LOADED[mem]
    path, text, module = writer.build_module(
        spec.name, key_h, lambda: generate(spec), function=writer.function_name(spec), kernel=name
    )
    k = Kernel(name, path, module, text, spec=spec, dynamic=False)
    _LOADED[mem] = k
    return k


def generate(spec: KernelSpec) -> str:
    """The full module text for spec, checksum line included."""
    return writer.generate(spec)
