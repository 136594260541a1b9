"""Hostile input that once hung, crashed or printed a traceback (issue 14's audit): each case runs in
a child process with a timeout where a hang or crash is possible, and ends in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHILD_TIMEOUT = 90  # seconds: every case here ends in well under this, or it hangs


def _env(**extra) -> dict:
    return {**os.environ, "COLUMNS": "80", "PYTHONPATH": str(ROOT), **extra}


def _cli(*args, cwd=None, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "symnn", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=_env(**env),
        timeout=CHILD_TIMEOUT,
    )


def _python(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(**env), timeout=CHILD_TIMEOUT
    )


def _one_error_line(r: subprocess.CompletedProcess, match: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr, r.stderr[-2000:]
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and match in lines[0], r.stderr


# -- 1. the default time limit covers an activation or cost written as an expression -------------

SLOW = "x^999*(x+1)^999*(x+2)^999*(x+3)^999"


@pytest.mark.parametrize(
    "options",
    [
        f"topic='activation', activation={SLOW!r}",
        f"topic='cost', activation={SLOW!r}",
        "topic='cost-functions', cost='(yhat - y)^999*(yhat+1)^999*(yhat+2)^999*(yhat+3)^999'",
    ],
)
def test_a_users_activation_or_cost_stops_at_the_default_time_limit(options):
    """Without --timeout, the default limit (lowered to 1 s here) stops a user's expression."""
    code = (
        "import symnn.limits as limits\n"
        "limits.DEFAULT_TIMEOUT = 1.0\n"
        "from symnn import derive\n"
        "from symnn.limits import TimeLimitExceeded\n"
        "try:\n"
        f"    derive({options})\n"
        "except TimeLimitExceeded as exc:\n"
        "    print('stopped:', exc)\n"
    )
    r = _python(code)
    assert "stopped: the derivation took longer than 1 s" in r.stdout, (r.stdout, r.stderr[-2000:])


def test_a_built_in_name_is_not_a_users_expression():
    from symnn.derive.topics import _user_text

    assert not _user_text({"activation": "ReLU", "cost": "mse"})
    assert not _user_text({"cost": "all"})
    assert _user_text({"activation": "x*tanh(x)"}) and _user_text({"cost": "log(cosh(yhat - y))"})


# -- 2. srepr data is bounded like the parser's input ---------------------------------------------

SREPR_BOUNDED = [
    "Pow(Integer(10), Integer(10000000000))",
    "Pow(10, 10000000000)",
    "Pow(Pow(Integer(10), Integer(1000)), Integer(1000))",
    "Pow(Rational(1, 1000), Integer(100000))",
    "Pow(Symbol('x'), Float('1e999'))",
    'Float("1e9999999")',
    "Float('1e99999999999999')",
    "Float('1', precision=1000000000)",
    "Float('1', 1000000000)",
    "Float('1_000')",
    "Float('" + "9" * 500 + "')",
]


def test_srepr_numbers_beyond_the_parsers_bounds_are_refused_at_once():
    """Each once hung (Float('1e9999999') even past SIGTERM): now each is one InputError."""
    code = (
        "import json, sys, time\n"
        "from symnn.errors import InputError\n"
        "from symnn.parse import read_srepr\n"
        "for text in json.loads(sys.argv[1]):\n"
        "    start = time.monotonic()\n"
        "    try:\n"
        "        read_srepr(text)\n"
        "        print('READ', text)\n"
        "    except InputError as exc:\n"
        "        assert time.monotonic() - start < 5, text\n"
        "        print('refused:', exc)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, json.dumps(SREPR_BOUNDED)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=CHILD_TIMEOUT,
    )
    assert r.returncode == 0 and "READ" not in r.stdout, (r.stdout, r.stderr[-2000:])
    assert r.stdout.count("refused:") == len(SREPR_BOUNDED)


def test_srepr_functions_of_numbers_are_not_computed():
    import sympy as sp

    from symnn.parse import read_srepr

    assert read_srepr("factorial(Integer(1000000000))") == sp.factorial(sp.Integer(10**9), evaluate=False)
    assert read_srepr("Float('1.0000000000000001e-1000', precision=53)") == sp.Float("1e-1000", 15)


def _forged_entry(cache: Path, srepr: list) -> None:
    from symnn.codegen.cache import HEADER, with_checksum

    (cache / "index").mkdir(parents=True)
    digest = "0123456789abcdef0123"
    module = cache / f"forged-{digest}.py"
    module.write_text(with_checksum(HEADER + "\nKERNEL = 1\n"))
    entry = {"name": "forged", "dynamic": True, "module": module.name, "hash": digest, "fingerprint": "x"}
    (cache / "index" / f"dynamic-{digest}.json").write_text(json.dumps({**entry, "srepr": srepr}))


@pytest.mark.parametrize(
    "srepr",
    [
        ['Float("1e9999999")'],
        ["Pow(Integer(10), Integer(10000000000))"],
        ["Symbol('x')"],
        ["Integer(3)"],
        ["Equality(Symbol('x'), Float('abc'))"],
    ],
)
def test_codegen_show_of_a_forged_entry_warns_in_one_line(tmp_path, srepr):
    cache = tmp_path / "cache"
    _forged_entry(cache, srepr)
    r = _cli("codegen", "show", "forged", SYMNN_CACHE_DIR=str(cache))
    assert r.returncode == 0 and "KERNEL = 1" in r.stdout, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "its stored equations cannot be shown" in lines[0], r.stderr


# -- 3. a FIFO is refused, never waited on ---------------------------------------------------------


@pytest.fixture
def model_and_fifos(tmp_path):
    from symnn.nn import Dense, Sequential, Sigmoid

    model = tmp_path / "m.npz"
    Sequential([Dense(2, 1), Sigmoid()], seed=0).save(model, input_shape=(2,))
    os.mkfifo(tmp_path / "fifo")
    os.mkfifo(tmp_path / "fifo.csv")
    (tmp_path / "d.csv").write_text("1,2\n3,4\n")
    return tmp_path


@pytest.mark.parametrize(
    "args, match",
    [
        (["info", "fifo"], "fifo is not a regular file"),
        (["predict", "fifo", "--data", "d.csv"], "fifo is not a regular file"),
        (["predict", "m.npz", "--data", "fifo.csv"], "fifo.csv is not a regular file"),
        (["info", "."], "is a folder, not a model file"),
    ],
)
def test_a_fifo_given_as_a_model_or_data_is_refused(model_and_fifos, args, match):
    _one_error_line(_cli(*args, cwd=model_and_fifos), match)


def test_loading_a_fifo_as_a_model_is_refused(model_and_fifos):
    code = (
        "from symnn.nn import Sequential\n"
        "from symnn.errors import FileError\n"
        "try:\n"
        f"    Sequential.load({str(model_and_fifos / 'fifo')!r})\n"
        "except FileError as exc:\n"
        "    print('refused:', exc)\n"
    )
    r = _python(code)
    assert "refused:" in r.stdout and "not a regular file" in r.stdout, (r.stdout, r.stderr[-2000:])


def test_a_model_still_loads_and_predicts(model_and_fifos):
    r = _cli("predict", "m.npz", "--data", "d.csv", cwd=model_and_fifos)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 2, r.stderr[-2000:]
