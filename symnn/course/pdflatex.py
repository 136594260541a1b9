"""pdflatex, run safely: two passes in a scratch folder, in their own process group, with a time
limit; the first LaTeX error or undefined reference of the log becomes one line."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from symnn.errors import SymnnError

PDFLATEX_TIMEOUT = 600  # seconds per pass


@dataclass(frozen=True)
class Compiled:
    pdf: bytes
    pages: int
    log: str  # the last pass's log
    toc: str  # the .toc file ("" when the document has no contents)


def compile_tex(
    pdflatex: str, tex: str, figures: Path | Iterable[Path], name: str = "course", passes: int = 2
) -> Compiled:
    """Run pdflatex `passes` times on `tex` as name.tex in a scratch folder, with the figures (a
    folder, or files) in its figures/; raise a SymnnError naming the first LaTeX error or
    undefined reference, with the line of name.tex it is on."""
    env = dict(os.environ, SOURCE_DATE_EPOCH="0", FORCE_SOURCE_DATE="1")  # a reproducible PDF
    file = f"{name}.tex"
    with tempfile.TemporaryDirectory(prefix=f"symnn-{name}-") as tmp:
        work = Path(tmp)
        (work / file).write_text(tex, encoding="utf-8")
        if isinstance(figures, Path):
            shutil.copytree(figures, work / "figures")
        else:
            (work / "figures").mkdir()
            for fig in figures:
                shutil.copyfile(fig, work / "figures" / fig.name)
        log = ""
        for _ in range(passes):
            run = run_pdflatex(pdflatex, work, env, file)
            log = _read(work / f"{name}.log") or run.stdout.decode("utf-8", "replace")
            error = latex_error(log, file)
            if run.returncode != 0 or error:
                raise SymnnError(
                    f"pdflatex failed on {file}: {error or 'exit code ' + str(run.returncode)}"
                    " (the .tex is written; run pdflatex on it to see the whole log)"
                )
        undefined = undefined_references(log)
        if undefined:
            raise SymnnError(f"{name}.pdf has undefined references after {passes} pdflatex passes: {undefined}")
        m = re.search(rf"Output written on {re.escape(name)}\.pdf \((\d+) pages?", log)
        pdf = (work / f"{name}.pdf").read_bytes()
        return Compiled(pdf, int(m.group(1)) if m else 0, log, _read(work / f"{name}.toc"))


def run_pdflatex(pdflatex: str, work: Path, env: dict, file: str = "course.tex") -> subprocess.CompletedProcess:
    """One pdflatex pass on work/file in its own process group; whatever ends the wait (the
    timeout, Ctrl-C, SIGTERM) kills the whole group and waits for it, so no pdflatex outlives
    the build."""
    cmd = [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "-file-line-error", "-no-shell-escape", file]
    proc = subprocess.Popen(
        cmd,
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=os.name == "posix",
    )
    try:
        out, err = proc.communicate(timeout=PDFLATEX_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise SymnnError(
            f"pdflatex took more than {PDFLATEX_TIMEOUT} s on {file}; the .tex is written, run pdflatex on it by hand"
        ) from None
    finally:
        if proc.poll() is None:
            _kill(proc)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _kill(proc: subprocess.Popen) -> None:
    import signal

    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except OSError:
        pass
    for stream in (proc.stdout, proc.stderr):
        if stream:
            stream.close()
    proc.wait()


def _read(p: Path) -> str:
    try:
        return p.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def latex_error(log: str, file: str = "course.tex") -> str | None:
    """The first error in a pdflatex log of `file`, with the line it happened on, or None."""
    lines = log.splitlines()
    for n, line in enumerate(lines):
        m = re.match(rf"^(?:\./)?{re.escape(file)}:(\d+): (.*)$", line) or re.match(r"^! (.*)$", line)
        if m:
            msg = m.groups()[-1]
            line_no = m.group(1) if m.re.groups == 2 else None
            if line_no is None:
                ctx = next((ln for ln in lines[n + 1 : n + 12] if re.match(r"^l\.\d+ ", ln)), "")
                line_no = ctx[2:].split(" ", 1)[0] if ctx else "?"
            return f"{msg.strip()} ({file} line {line_no})"
        if "Missing character" in line:
            return line.strip()
    return None


def undefined_references(log: str) -> str | None:
    refs = re.findall(r"(?:Reference|Citation) [`'](.+?)' on page \d+ undefined", log)
    if refs:
        return ", ".join(sorted(set(refs)))
    if "There were undefined references" in log:
        return "(see the LaTeX log)"
    return None
