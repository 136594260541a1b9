"""The habits of a well-kept Python tool: --version, plurals, progress lines, no private names
used across modules."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import symnn


def test_version_matches_the_package_metadata():
    assert symnn.__version__ == importlib.metadata.version("symnn")
    r = subprocess.run([sys.executable, "-m", "symnn", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == f"symnn {symnn.__version__}"


def test_one_is_singular():
    from symnn import derive
    from symnn.wording import plural

    assert plural(1, "epoch") == "1 epoch" and plural(2, "epoch") == "2 epochs" and plural(0, "step") == "0 steps"
    from symnn.render.text import verification_summary

    text = verification_summary(derive("expression", expr="x^2"))
    assert "the 1 step checked" in text and "the result equals sympy.diff" in text and "1 results" not in text


def test_progress_in_a_log_is_a_few_plain_lines(tmp_path):
    """stderr not a terminal: no bar redraws, at most one line a second (and one per tenth)."""
    import os
    import time

    start = time.monotonic()
    r = subprocess.run(
        [sys.executable, "-m", "symnn", "train", "mlp", "--dataset", "xor", "--hidden", "3", "--epochs", "3000"],
        capture_output=True,
        text=True,
        env={**os.environ, "SYMNN_CACHE_DIR": str(tmp_path)},
    )
    seconds = time.monotonic() - start
    assert r.returncode == 0 and "\r" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if line.startswith("epochs:")]
    assert 1 <= len(lines) <= min(11, seconds + 2) and lines[-1].startswith("epochs: 3000/3000 (100%)")
    quiet = subprocess.run(
        [
            sys.executable,
            "-m",
            "symnn",
            "train",
            "mlp",
            "--dataset",
            "xor",
            "--hidden",
            "3",
            "--epochs",
            "300",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "SYMNN_CACHE_DIR": str(tmp_path)},
    )
    assert quiet.returncode == 0 and "epochs:" not in quiet.stderr


def test_plain_progress_lines_are_rate_limited(monkeypatch):
    import io

    from symnn import progress as p

    clock = [0.0]
    monkeypatch.setattr(p.time, "monotonic", lambda: clock[0])
    out = io.StringIO()
    bar = p.progress(total=1000, desc="epochs", stream=out)
    for _ in range(1000):
        clock[0] += 0.001  # 1 s in all: the tenths come faster than one a second
        bar.update(1)
    bar.close()
    lines = out.getvalue().splitlines()
    assert len(lines) <= 2 and lines[-1].startswith("epochs: 1000/1000 (100%)")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_module(root: Path, dotted: str) -> bool:
    p = root.joinpath(*dotted.split("."))
    return p.with_suffix(".py").is_file() or (p / "__init__.py").is_file()


def _private_uses(root: Path, path: Path) -> list[str]:
    """Where the module at `path` imports a private name from another symnn module, or reads or
    sets one through a module it imported (`from symnn.x import _y`, `x._y`, `x._y = ...`)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    package = parts[:-1]  # what `from . import` starts at, for a package's __init__ as for a module
    if parts[-1] == "__init__":
        parts = parts[:-1]
    me = ".".join(parts)
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    modules: dict[str, str] = {}  # a local name -> the symnn module it is bound to
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "symnn":
                    modules[alias.asname or "symnn"] = alias.name if alias.asname else "symnn"
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            source = ".".join(base + ([node.module] if node.module else []))
            if source.split(".")[0] != "symnn":
                continue
            for alias in node.names:
                if _private(alias.name) and source != me:
                    found.append(f"{path.relative_to(root)}:{node.lineno} imports {alias.name} from {source}")
                elif _is_module(root, f"{source}.{alias.name}"):
                    modules[alias.asname or alias.name] = f"{source}.{alias.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            chain, value = [], node.value
            while isinstance(value, ast.Attribute):
                chain.append(value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id in modules:
                target = ".".join([modules[value.id], *reversed(chain)])
                if target != me and _is_module(root, target):
                    found.append(f"{path.relative_to(root)}:{node.lineno} uses {target}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names():
    """A name with a leading underscore stays in its module: what another module needs is public."""
    root = Path(symnn.__file__).resolve().parents[1]
    found = [use for path in sorted((root / "symnn").rglob("*.py")) for use in _private_uses(root, path)]
    assert not found, "private names used across modules:\n" + "\n".join(found)


def test_the_private_names_check_sees_imports_and_module_attributes(tmp_path):
    package = tmp_path / "symnn"
    (package / "a").mkdir(parents=True)
    for name in ("__init__.py", "a/__init__.py", "a/x.py"):
        (package / name).write_text("")
    (package / "a" / "y.py").write_text(
        "from symnn.a.x import _hidden, shown\nfrom . import x\nimport symnn.a.x as xm\n"
        "x._set = 1\nprint(xm._read, x.__name__, xm.shown)\n"
    )
    found = _private_uses(tmp_path, package / "a" / "y.py")
    assert [f.split(" ", 1)[1] for f in found] == [
        "imports _hidden from symnn.a.x",
        "uses symnn.a.x._set",
        "uses symnn.a.x._read",
    ]


def _read_until(fd: int, done, timeout: float) -> bytes:
    """What the terminal's other end receives until done(received) or timeout seconds pass."""
    import select

    got, end = b"", time.monotonic() + timeout
    while not done(got) and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the program closed the terminal
                break
            if not chunk:
                break
            got += chunk
    return got


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal (pty)")
def test_ctrl_c_on_a_terminal_ends_the_bar_before_its_message_and_the_bar_redraws_a_few_times_a_second():
    import fcntl
    import pty
    import signal
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    cmd = [sys.executable, "-m", "symnn", "train", "mlp", "--dataset", "xor", "--hidden", "3", "--epochs", "100000000"]
    env = {**os.environ, "SYMNN_MAX_WORK": "1000000T"}  # a run long enough to be interrupted
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    try:
        started = _read_until(master, lambda got: b"loss" in got, 300)  # compiled, training
        assert b"loss" in started, started[-500:]
        window = _read_until(master, lambda got: False, 2.0)  # 2 s of redraws
        proc.send_signal(signal.SIGINT)
        rest = _read_until(master, lambda got: b"symnn: interrupted" in got and got.endswith(b"\n"), 60)
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert len(window) < 10_000, len(window)  # rate-limited: a redraw per ~0.1 s, not one per epoch
    before, _, _ = (window + rest).partition(b"symnn: interrupted")
    assert before.endswith(b"\n"), before[-200:]  # the bar closed with a newline: the message has its own line
    assert b"\r" in window  # a real bar (tqdm) redrawn in place


def test_counts_of_one_are_singular_in_messages(capsys):
    import numpy as np

    from symnn.cli import main
    from symnn.nn import Dense, Sequential, Sigmoid

    assert main(["train", "mlp", "--dataset", "xor", "--layers", "dense1"]) == 2
    err = capsys.readouterr().err
    assert "the stack gives 1 output, but xor has 2 classes" in err and "1 outputs" not in err
    net = Sequential([Dense(2, 1), Sigmoid()])
    with pytest.raises(symnn.InputError, match=r"^X has 1 sample but y has 2; they must match$"):
        net.fit(np.zeros((1, 2)), np.zeros((2, 1)), epochs=1, progress=False)
    net.fit(np.zeros((1, 2)), np.zeros((1, 1)), epochs=1, batch_size=4, progress=False)
    assert "larger than the 1 training sample; using 1" in capsys.readouterr().err
