"""Where symnn keeps what it computes once: the cache directory (SYMNN_CACHE_DIR, else the
platform's user cache folder: ~/.cache/symnn or $XDG_CACHE_HOME/symnn on Linux,
~/Library/Caches/symnn on macOS, %LOCALAPPDATA%\\symnn\\Cache on Windows), with a temporary
fallback when it cannot be written.

Kept apart from symnn.codegen (which imports NumPy) so that `symnn derive` can read and write
its verification records (symnn.derive.derivation) without loading the code generator.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
import tempfile
import warnings
from pathlib import Path

from symnn.errors import SymnnWarning

ENV = "SYMNN_CACHE_DIR"
SUBFOLDERS = ("index", "data", "verified")
MARKER = ".symnn-folder"  # in a sub-folder symnn created: a random token, listed in the
# cache's manifest under the sub-folder's name


class CacheWarning(SymnnWarning):
    """The cache directory or a cached module could not be used as is."""


_fallback: dict[str, Path] = {}
_checked: set[str] = set()
_digests: dict[str, str] = {}


def default_cache_dir(platform: str | None = None) -> Path:
    """The platform's user cache folder for symnn (the conventions platformdirs follows)."""
    platform = platform or sys.platform
    if platform == "win32":
        local = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(local) / "symnn" / "Cache"
    if platform == "darwin":
        return Path.home() / "Library" / "Caches" / "symnn"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache") / "symnn"


def cache_dir() -> Path:
    """The cache directory in use: SYMNN_CACHE_DIR, else default_cache_dir(); a temporary
    directory (with one warning) when that cannot be written."""
    wanted = Path(os.environ.get(ENV) or default_cache_dir()).expanduser()
    key = str(wanted)
    if key in _fallback:
        return _fallback[key]
    if key in _checked:
        return wanted
    try:
        wanted.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=wanted, prefix=".probe-")
        os.close(fd)
        os.unlink(probe)
        _make_subfolders(wanted)
    except OSError as exc:
        return use_fallback(wanted, exc)
    _checked.add(key)
    return wanted


def _make_subfolders(root: Path) -> None:
    """index/, data/, verified/: a folder symnn creates gets its marker (so `codegen clear` may
    empty it); one that was there before is left unmarked (only listed files are removed)."""
    from symnn.outputs import digest, record

    for name in SUBFOLDERS:
        sub = root / name
        try:
            sub.mkdir()
        except FileExistsError:
            if not sub.is_dir():
                raise NotADirectoryError(20, "Not a directory", str(sub)) from None
            continue
        token = secrets.token_hex(16).encode()
        record(root, name, digest(token))
        write_file(sub / MARKER, token)


def is_marked(sub: Path) -> bool:
    """True when sub is a sub-folder symnn created (its marker's hash is in the cache's manifest)."""
    from symnn.outputs import file_digest, read_manifest

    d = file_digest(sub / MARKER)
    return d is not None and d in read_manifest(sub.parent).get(sub.name, ())


def write_file(path: Path, data: str | bytes) -> Path:
    """Write a cache file through a temporary file in the same folder and a rename, listing it in
    the folder's manifest first (so `codegen clear` knows it, even if interrupted)."""
    from symnn.outputs import digest, record, temp_name

    payload = data.encode("utf-8") if isinstance(data, str) else data
    record(path.parent, path.name, digest(payload))
    tmp = temp_name(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def use_fallback(wanted: Path, exc: OSError) -> Path:
    """Use a private temporary folder instead of `wanted` for this session (one warning)."""
    tmp = _private_temp_dir()
    _fallback[str(wanted)] = tmp
    reason = exc.strerror or type(exc).__name__
    warnings.warn(
        f"cannot write the kernel cache {wanted} ({reason}); using {tmp} "
        f"for this session (set {ENV} to a writable folder)",
        CacheWarning,
        stacklevel=3,
    )
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
            _make_subfolders(shared)
            return shared
    except OSError:
        pass
    tmp = Path(tempfile.mkdtemp(prefix="symnn-cache-"))
    _make_subfolders(tmp)
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
