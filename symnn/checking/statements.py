"""A learner's file -> its statements: `given NAME = EXPR` and claims `LHS = RHS [= ...]`.

Plain text: one statement per line, `#` starts a comment, blank lines are skipped. A file with
`$...$` or `$$...$$` (LaTeX, or Markdown with such blocks) is read from its math only: each
formula (each `\\\\`-separated row of one) is a statement; a row that starts with `=` continues
the one before, as in an align block; prose between formulas is skipped, except lines that
start with `given`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from symnn.checking.latex import to_plain
from symnn.errors import InputError

MAX_LINES = 500  # statements in one file
MAX_SIDES = 20  # '=' in one statement


class CheckInputError(InputError):
    """A line `symnn check` cannot read: says which line and column."""


@dataclass
class Statement:
    line: int  # 1-based line of the input where it starts
    text: str  # as written (for display)
    kind: str  # "given" or "claim"
    sides: list[str]  # plain notation; a given: [name, expression]
    cols: list[int]  # 1-based column of each side in the plain notation


_GIVEN = re.compile(r"^\s*(?:given|let)\s+", re.IGNORECASE)
_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\[(.+?)\\\]", re.DOTALL)


def split_sides(text: str) -> list[tuple[str, int]]:
    """The parts between top-level '=' signs (not ==, <=, >=, !=, nor inside () [] {}), with columns."""
    parts, depth, start = [], 0, 0
    for n, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "=" and depth == 0:
            before, after = text[n - 1 : n], text[n + 1 : n + 2]
            if before in "<>!=" and before or after == "=":
                raise CheckInputError(f"'{before}{ch}{after}' at column {n}: only '=' claims can be checked")
            parts.append((text[start:n], start + 1))
            start = n + 1
    parts.append((text[start:], start + 1))
    return parts


def _statement(line: int, written: str, plain: str) -> Statement:
    given = _GIVEN.match(plain)
    body = plain[given.end() :] if given else plain
    offset = given.end() if given else 0
    try:
        sides = split_sides(body)
    except CheckInputError as exc:
        raise CheckInputError(f"line {line}: {exc}") from None
    if len(sides) > MAX_SIDES:
        raise CheckInputError(f"line {line} has {len(sides) - 1} '=' signs; at most {MAX_SIDES - 1} are read")
    texts = [" ".join(s.split()) for s, _ in sides]
    cols = [c + offset + (len(s) - len(s.lstrip())) for s, c in sides]
    for text, col in zip(texts, cols):
        if not text:
            raise CheckInputError(f"line {line}, column {col}: an '=' with nothing on one side")
    if given:
        if len(texts) != 2:
            raise CheckInputError(f"line {line}: a given reads `given NAME = EXPRESSION` (one '=')")
        return Statement(line, written, "given", texts, cols)
    if len(texts) < 2:
        raise CheckInputError(
            f"line {line}: {written.strip()[:40]!r} is neither a given nor a claim; write `given NAME = EXPR` "
            "or `LHS = RHS` (a # starts a comment)"
        )
    return Statement(line, written, "claim", texts, cols)


def read_statements(text: str) -> list[Statement]:
    """The statements of a learner's file, in order."""
    if "\x00" in text:
        raise CheckInputError("the input holds NUL bytes; give a text file")
    statements = _math_statements(text) if "$" in text or "\\[" in text else _plain_statements(text)
    if len(statements) > MAX_LINES:
        raise CheckInputError(f"the input has {len(statements)} statements; at most {MAX_LINES} are read")
    return statements


def _plain_statements(text: str) -> list[Statement]:
    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0]
        if not line.strip():
            continue
        plain = _latex(line, n) if "\\" in line else line
        out.append(_statement(n, line.strip(), plain))
    return out


def _latex(s: str, line: int) -> str:
    try:
        return to_plain(s)
    except InputError as exc:
        raise CheckInputError(f"line {line}: {exc}") from None


def _math_statements(text: str) -> list[Statement]:
    out: list[Statement] = []
    pos = 0
    for m in _MATH.finditer(text):
        for raw in text[pos : m.start()].splitlines():  # prose: only given lines count
            if _GIVEN.match(raw) and "=" in raw:
                out.append(_statement(text.count("\n", 0, pos) + 1, raw, raw))
        pos = m.end()
        body = next(g for g in m.groups() if g is not None)
        line = text.count("\n", 0, m.start()) + 1
        body = re.sub(
            r"\\begin\{(align|aligned|equation|gather)\*?\}|\\end\{(align|aligned|equation|gather)\*?\}", "", body
        )
        body = re.sub(r"\\text\{\s*(given|let)\s*\}", r"given ", body)
        for k, row in enumerate(re.split(r"\\\\", body)):
            row_line = line + body[: body.find(row)].count("\n") if k else line
            plain = _latex(row.replace("\n", " "), row_line).strip()
            if not plain:
                continue
            if plain.startswith("=") and out and out[-1].kind == "claim":
                prev = out[-1]
                merged = _statement(prev.line, prev.text + " " + row.strip(), " = ".join(prev.sides) + " " + plain)
                out[-1] = merged
                continue
            out.append(_statement(row_line, row.strip(), plain))
    return out
