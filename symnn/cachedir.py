"""Where symnn keeps what it computes once: the cache directory (~/.cache/symnn, or
SYMNN_CACHE_DIR), with a temporary fallback when it cannot be written.

Kept apart from symnn.codegen (which imports NumPy) so that `symnn derive` can read and write
its verification records (symnn.derive.derivation) without loading the code generator.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from pathlib import Path

ENV = "SYMNN_CACHE_DIR"


class CacheWarning(UserWarning):
    """The cache directory or a cached module could not be used as is."""


_fallback: dict[str, Path] = {}
_checked: set[str] = set()
_digests: dict[str, str] = {}


def cache_dir() -> Path:
    """The cache directory in use: SYMNN_CACHE_DIR, else ~/.cache/symnn; a temporary directory
    (with one warning) when that cannot be written."""
    wanted = Path(os.environ.get(ENV) or Path.home() / ".cache" / "symnn").expanduser()
    key = str(wanted)
    if key in _fallback:
        return _fallback[key]
    if key in _checked:
        return wanted
    try:
        (wanted / "index").mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=wanted, prefix=".probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return _use_fallback(wanted, exc)
    _checked.add(key)
    return wanted


def _use_fallback(wanted: Path, exc: OSError) -> Path:
    tmp = _private_temp_dir()
    _fallback[str(wanted)] = tmp
    reason = exc.strerror or type(exc).__name__
    warnings.warn(f"symnn: cannot write the kernel cache {wanted} ({reason}); using {tmp} "
                  f"for this session (set {ENV} to a writable folder)", CacheWarning, stacklevel=3)
    return tmp


def _private_temp_dir() -> Path:
    """A per-user folder in the temp dir (shared by this user's processes, so they still load
    each other's kernels), or a fresh one if that folder is not safely ours."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    shared = Path(tempfile.gettempdir()) / f"symnn-cache-{uid}"
    try:
        shared.mkdir(mode=0o700, exist_ok=True)
        st = shared.stat()
        if st.st_uid == uid and not st.st_mode & 0o022 and os.access(shared, os.W_OK):
            (shared / "index").mkdir(exist_ok=True)
            return shared
    except OSError:
        pass
    tmp = Path(tempfile.mkdtemp(prefix="symnn-cache-"))
    (tmp / "index").mkdir()
    return tmp


def sources_digest() -> str:
    """A hash of every symnn/**/*.py: a record made by other code is not reused."""
    if "sources" not in _digests:
        root = Path(__file__).resolve().parent
        h = hashlib.sha256()
        for path in sorted(root.glob("**/*.py")):
            if "__pycache__" in path.parts:
                continue
            h.update(str(path.relative_to(root)).encode() + b"\0")
            h.update(path.read_bytes())
        _digests["sources"] = h.hexdigest()
    return _digests["sources"]
