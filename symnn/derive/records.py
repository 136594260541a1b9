"""Verification records: a derivation verified once (same steps, goals, check sizes, symnn sources,
SymPy, mpmath) is not checked again; its record is verified/<key>.json in the cache folder."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp

if TYPE_CHECKING:
    from symnn.derive.derivation import Derivation

RECORD_VERSION = 1
_RECORDS: dict[str, list] = {}  # key -> verified_by of every step, made in this process


def key(d: Derivation) -> str | None:
    """A hash of everything verify() depends on: the steps (with the definitions in force and
    what SymPy checks instead), the goals, the check sizes, and the code that does the checking
    (every symnn source, SymPy, mpmath). Dummy symbols are numbered by first appearance."""
    import hashlib
    import re

    import mpmath

    from symnn.cachedir import sources_digest

    memo: dict = {}

    def rep(e) -> str:
        if e is None:
            return "None"
        if isinstance(e, tuple):
            return "(" + ", ".join(rep(x) for x in e) + ")"
        if id(e) not in memo:  # by identity: an expression recurs as the same object
            memo[id(e)] = (e, sp.srepr(e))
        return memo[id(e)][1]

    def defs(ds: dict) -> str:
        return "; ".join(f"{rep(k)} := {rep(v)}" for k, v in ds.items())

    try:
        parts = [
            f"symnn verification record {RECORD_VERSION}",
            f"sympy {sp.__version__}",
            f"mpmath {mpmath.__version__}",
            f"symnn sources {sources_digest()}",
            d.title,
            "check " + defs(d.check_subs),
        ]
        for s in d.steps:
            parts.append(f"step {s.rule} | {rep(s.lhs)} | {rep(s.rhs)} | {rep(s.check)} | {defs(s.defs)}")
        for g in d.goals:
            parts.append(f"goal {g.name} | {rep(g.definition)} | {rep(g.var)} | {rep(g.result)} | {defs(g.defs)}")
    except Exception:  # noqa: BLE001 - something srepr cannot write: just verify
        return None
    text = "\n".join(parts)
    numbers: dict[str, str] = {}
    text = re.sub(
        r"dummy_index=(\d+)", lambda m: f"dummy_index={numbers.setdefault(m.group(1), str(len(numbers)))}", text
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def path(key: str):
    from symnn.cachedir import cache_dir

    return cache_dir() / "verified" / f"{key}.json"


def read(key: str) -> list | None:
    if key in _RECORDS:
        return _RECORDS[key]
    import json

    try:
        record = json.loads(path(key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    hows = record.get("verified_by") if isinstance(record, dict) else None
    if not isinstance(hows, list) or not all(h is None or isinstance(h, str) for h in hows):
        return None
    _RECORDS[key] = hows
    return hows


def write(key: str, d: Derivation) -> None:
    import json

    from symnn.cachedir import write_file

    hows = [s.verified_by for s in d.steps]
    _RECORDS[key] = hows
    try:
        target = path(key)
        target.parent.mkdir(exist_ok=True)
        write_file(target, json.dumps({"title": d.title, "verified_by": hows}, ensure_ascii=False, indent=0))
    except OSError:
        pass  # the record only saves time
