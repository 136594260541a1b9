"""What `symnn check` found, and how it prints: text, Markdown, LaTeX and JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from symnn.checking.compare import Counterexample
from symnn.checking.misconceptions import Misconception


@dataclass
class LineResult:
    line: int  # 1-based line of the input
    kind: str  # "given" or "claim"
    holds: bool | None  # None for a given
    how: str | None  # "symbolic", "numeric" or None
    text: str = ""


@dataclass
class Mistake:
    line: int
    left: str
    right: str
    counterexample: Counterexample | None
    misconception: Misconception
    detail: str
    suggestion: str
    sizes: dict = field(default_factory=dict)


_ASCII = str.maketrans(
    {
        "ŷ": "yhat",
        "σ": "sigma",
        "½": "1/2",
        "−": "-",
        "·": "*",
        "∂": "d",
        "≠": "!=",
        "φ": "phi",
        "√": "sqrt",
        "₀": "_0",
        "₁": "_1",
        "₂": "_2",
        "₃": "_3",
        "₄": "_4",
        "₅": "_5",
        "₆": "_6",
        "₇": "_7",
        "₈": "_8",
        "₉": "_9",
        "²": "^2",
        "³": "^3",
        "°": " degrees",
        "—": "-",
        "✓": "ok",
        "✗": "WRONG",
    }
)


def ascii_text(s: str) -> str:
    """s for a terminal that has no Unicode: the course's symbols spelled out, anything else '?'."""
    return s.translate(_ASCII).encode("ascii", "replace").decode()


def _num(v: float) -> str:
    return f"{v:.6g}"


@dataclass
class CheckResult:
    ok: bool
    lines: list[LineResult]
    mistake: Mistake | None = None
    goal: str | None = None
    goal_reached: bool | None = None

    @property
    def first_error(self) -> int | None:
        return self.mistake.line if self.mistake else None

    def as_dict(self) -> dict:
        m = self.mistake
        ce = m.counterexample if m else None
        return {
            "ok": self.ok,
            "first_error": self.first_error,
            "lines": [{"line": l.line, "kind": l.kind, "holds": l.holds, "how": l.how} for l in self.lines],
            "counterexample": {"values": ce.values, "lhs": ce.lhs, "rhs": ce.rhs} if ce else None,
            "misconception": m.misconception.id if m else None,
            "suggestion": m.suggestion if m else None,
            "explanation": self.explanation() if m else None,
            "goal": self.goal,
            "goal_reached": self.goal_reached,
        }

    def json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2, sort_keys=False) + "\n"

    def explanation(self) -> str:
        """Two or three lines on the first wrong line."""
        m = self.mistake
        if m is None:
            return ""
        out = [f"line {m.line}: {m.left} = {m.right} does not hold."]
        if m.counterexample:
            ce = m.counterexample
            at = ", ".join(f"{k} = {v}" for k, v in ce.values.items())
            sizes = ", ".join(f"{k} = {v}" for k, v in m.sizes.items())
            at = f"{at} (with {sizes})" if sizes and at else f"{sizes}" if sizes else at
            where = f"At {at} the left side is" if at else "The left side is"
            out.append(f"{where} {_num(ce.lhs)} and the right side {_num(ce.rhs)}.")
        if m.misconception.id != "other":
            what = f" ({m.detail})" if m.detail else ""
            out.append(
                f"Likely misconception [{m.misconception.id}]: {m.misconception.title}{what}. {m.misconception.advice}"
            )
        out.append(f"symnn writes: {m.suggestion}")
        return "\n".join(out)

    def _marks(self, ascii_only: bool) -> tuple[str, str]:
        return ("ok", "WRONG") if ascii_only else ("✓", "✗")

    def text(self, ascii_only: bool = False) -> str:
        good, bad = self._marks(ascii_only)
        width = max((len(str(l.line)) for l in self.lines), default=1)
        rows = []
        for l in self.lines:
            mark = "given" if l.kind == "given" else good if l.holds else bad if l.holds is False else "?"
            how = f"  ({l.how})" if l.how == "numeric" else ""
            rows.append(f"{l.line:>{width}}  {mark:<5}  {l.text}{how}")
        if self.mistake:
            rows += ["", self.explanation()]
        if self.goal is not None:
            rows.append(
                f"goal {self.goal}: "
                + ("reached" if self.goal_reached else "not reached — no line that holds derives it")
            )
        rows.append(
            "every claim holds"
            if self.ok
            else f"the first wrong line is line {self.first_error}"
            if self.mistake
            else "not done"
        )
        text = "\n".join(rows) + "\n"
        return ascii_text(text) if ascii_only else text

    def markdown(self) -> str:
        rows = ["| line | | statement |", "|---:|:---:|---|"]
        for l in self.lines:
            mark = "given" if l.kind == "given" else "✓" if l.holds else "✗"
            cell = l.text.replace("|", "\\|")
            rows.append(f"| {l.line} | {mark} | `{cell}` |")
        if self.mistake:
            rows += ["", *(f"> {line}  " for line in self.explanation().splitlines())]
        rows += ["", "**Every claim holds.**" if self.ok else f"**The first wrong line is line {self.first_error}.**"]
        return "\n".join(rows) + "\n"

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def latex(self) -> str:
        from symnn.render.latex import latex_text

        rows = [r"\begin{tabular}{rll}"]
        for l in self.lines:
            mark = "given" if l.kind == "given" else r"$\checkmark$" if l.holds else r"$\times$"
            rows.append(rf"{l.line} & {mark} & \verb|{l.text.replace('|', '')}| \\")
        rows.append(r"\end{tabular}")
        if self.mistake:
            rows += [
                "",
                r"\begin{quote}",
                *(latex_text(line) + r"\\" for line in self.explanation().splitlines()),
                r"\end{quote}",
            ]
        return "\n".join(rows) + "\n"
