"""Named kernels, built on first use and loaded from the cache afterwards.

    @register("conv2d.forward")          # a zero-argument factory returning a KernelSpec;
    def _forward() -> KernelSpec: ...    # it runs SymPy, so it only runs when needed

    kernel("conv2d.forward")             # -> Kernel: from this process, else the cache index,
                                         #    else run the factory, generate, compile, cache
    build(spec)                          # -> Kernel for a spec made on the fly (not registered)

Factories live in provider modules (PROVIDERS), imported when the names are listed or an
unknown name is asked for. A warm start (a second process) finds a registered kernel through
the cache index, keyed by the name and a fingerprint of every symnn source file, without
importing the provider or running its factory.
"""
from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from symnn.codegen import cache
from symnn.codegen.kernel import Kernel
from symnn.errors import CacheError, unknown

if TYPE_CHECKING:
    from symnn.codegen.spec import KernelSpec

# Modules that register kernels when imported; append yours. Missing ones are skipped.
PROVIDERS: list[str] = [
    "symnn.kernels.activations",
    "symnn.kernels.costs",
    "symnn.kernels.dense",
    "symnn.kernels.conv2d",
    "symnn.kernels.pool",
    "symnn.kernels.softmax",
    "symnn.kernels.flatten",
    "symnn.kernels.sgd",
    "symnn.filters",
    "symnn.feature_maps",
    "symnn.vision.filters",
    "symnn.vision.feature_maps",
]

Factory = Callable[[], "KernelSpec"]
_FACTORIES: dict[str, Factory] = {}
_LOADED: dict[tuple[str, str], Kernel] = {}        # (cache dir, name or hash) -> kernel
_imported: set[str] = set()
_indexed: set[tuple[str, str]] = set()               # dynamic kernels already in the index


def register(name: str) -> Callable[[Factory], Factory]:
    """Decorator: make a zero-argument KernelSpec factory available as kernel(name)."""
    def deco(factory: Factory) -> Factory:
        _FACTORIES[name] = factory
        return factory
    return deco


def _import_providers() -> None:
    for module in PROVIDERS:
        if module in _imported:
            continue
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module.startswith(exc.name):   # a provider not written yet
                raise
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
        cache.index_write(_entry(k, spec, dynamic=False))
    _LOADED[key] = k
    return k


def build(spec: KernelSpec) -> Kernel:
    """A kernel for a spec made on the fly (e.g. a filter specialised to its coefficients);
    cached by the spec's hash and listed as dynamic by `symnn codegen list`."""
    k = _build(spec, name=spec.name)
    if (str(cache.cache_dir()), k.path.name) not in _indexed:
        k.dynamic = True
        cache.index_write(_entry(k, spec, dynamic=True))
        _indexed.add((str(cache.cache_dir()), k.path.name))
    return k


def clear_cache() -> int:
    """Empty the cache directory (and forget the kernels loaded here); return the file count."""
    _LOADED.clear()
    _indexed.clear()
    return cache.clear()


def cache_dir() -> Path:
    return cache.cache_dir()


# -- building and loading ------------------------------------------------------------------------
def _entry(k: Kernel, spec: KernelSpec, dynamic: bool) -> dict:
    import sympy as sp
    return {"name": k.name, "dynamic": dynamic, "module": k.path.name,
            "hash": k.path.stem.rpartition("-")[2], "fingerprint": cache.source_fingerprint(),
            "equations": [sp.sstr(e) for e in spec.equations()],
            "srepr": [sp.srepr(e) for e in spec.equations()]}


def _load(entry: dict, spec_factory: Callable | None) -> Kernel | None:
    """A kernel from an (already checked) index entry, or None (after one warning from
    cache.read_module) if its module is damaged."""
    path = cache.cache_dir() / entry["module"]
    text, _ = cache.read_module(path)
    if text is None:
        return None
    try:
        module = cache.import_module(path, cache.module_name(entry["hash"]))
        return Kernel(entry["name"], path, module, text, factory=spec_factory,
                      dynamic=entry["dynamic"])
    except Exception as exc:                       # noqa: BLE001 - any import failure: rebuild
        warnings.warn(f"cached kernel {path.name} does not import ({_one_line(exc)}); rebuilding it",
                      cache.CacheWarning, stacklevel=3)
        return None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "…"


def _build(spec: KernelSpec, name: str) -> Kernel:
    """Generate (unless an intact module is cached), write, import."""
    key_h = cache.spec_hash(spec.key())
    mem = (str(cache.cache_dir()), key_h)
    if mem in _LOADED:
        return _LOADED[mem]
    from symnn.codegen.printer import function_name
    path = cache.cache_dir() / f"{cache.stem(spec.name)}-{key_h}.py"
    text, _ = cache.read_module(path)             # a damaged one: warned about and removed
    for attempt in range(2):
        if text is None:
            text = generate(spec)
            path = _write(path, text)
        try:
            module = cache.import_module(path, cache.module_name(key_h))
            if getattr(module, "FUNCTION", None) != function_name(spec):
                raise ImportError(f"it lacks {function_name(spec)}")
            break
        except Exception as exc:                   # noqa: BLE001
            if attempt:
                raise CacheError(f"kernel {name}: the generated module {path} does not import: "
                                 f"{_one_line(exc)}") from exc
            warnings.warn(f"cached kernel {path.name} does not import ({_one_line(exc)}); rebuilding it",
                          cache.CacheWarning, stacklevel=3)
            text = None
    k = Kernel(name, path, module, text, spec=spec, dynamic=False)
    _LOADED[mem] = k
    return k


def _write(path: Path, text: str) -> Path:
    try:
        return cache.write_atomic(path, text)
    except OSError as exc:                          # the folder went read-only meanwhile
        fallback = cache._use_fallback(path.parent, exc)
        return cache.write_atomic(fallback / path.name, text)


def generate(spec: KernelSpec) -> str:
    """The full module text for spec, checksum line included."""
    import symnn
    from symnn.codegen.lower import lower
    from symnn.codegen.printer import kernel_module
    return cache.with_checksum(kernel_module(spec, lower(spec), symnn.__version__))
