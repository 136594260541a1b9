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


# -- 4. an --out folder name too long is one line ------------------------------------------------


@pytest.mark.parametrize("command", [["filter", "--kernel", "blur"], ["course", "build", "--lessons", "1"]])
@pytest.mark.parametrize("out", ["d" * 300, "a/" + "d" * 300 + "/b"])
def test_an_out_folder_name_too_long_is_one_line(tmp_path, command, out):
    r = _cli(*command, "--out", out, cwd=tmp_path)
    _one_error_line(r, "name is too long (300 bytes; file systems allow at most 255)")
    assert "folder name" in r.stderr


def test_folder_state(tmp_path):
    from symnn.errors import FileError
    from symnn.outputs import folder_state

    (tmp_path / "f").write_text("x")
    assert [folder_state(tmp_path), folder_state(tmp_path / "f"), folder_state(tmp_path / "f" / "g")] == [
        "folder",
        "other",
        "missing",
    ]
    assert folder_state(tmp_path / "nope" / "g") == "missing"
    with pytest.raises(FileError, match="NUL character"):
        folder_state(tmp_path / "a\0b")
    with pytest.raises(FileError, match=r"the path is too long \(\d+ bytes\)"):
        folder_state(tmp_path.joinpath(*["e" * 200] * 25))


# -- 8. --lessons ranges end at the last lesson ----------------------------------------------------


@pytest.mark.parametrize(
    "spec, says",
    [
        ("1-999999999", None),
        ("2-99999999999999999999", None),
        ("999999999-9999999999", "no lesson 999999999"),
        ("9" * 5000, "bad --lessons spec"),
    ],
)
def test_a_huge_lessons_range_is_cut_at_the_last_lesson(spec, says):
    import time

    from symnn.course.book import LessonFile, select
    from symnn.errors import InputError

    lessons = [LessonFile(n, f"{n:02d}-x", Path(f"{n:02d}-x.py")) for n in (1, 2, 3, 5)]
    start = time.monotonic()
    if says is None:
        assert [lf.number for lf in select(spec, lessons)] == [n for n in (1, 2, 3, 5) if n >= int(spec[0])]
    else:
        with pytest.raises(InputError, match=says):
            select(spec, lessons)
    assert time.monotonic() - start < 1


# -- 9. training's work is bounded before the first epoch ----------------------------------------


def test_fit_with_endless_epochs_is_refused_before_training():
    code = (
        "import numpy as np\n"
        "from symnn.errors import InputError\n"
        "from symnn.nn import Dense, Sequential, Sigmoid\n"
        "net = Sequential([Dense(2, 1), Sigmoid()], seed=0)\n"
        "for epochs in (10**20, 10**10):\n"
        "    try:\n"
        "        net.fit(np.zeros((4, 2)), np.zeros(4), epochs=epochs)\n"
        "    except InputError as exc:\n"
        "        print('refused:', exc)\n"
    )
    r = _python(code)
    assert r.stdout.count("refused: training") == 2 and "SYMNN_MAX_WORK" in r.stdout, (r.stdout, r.stderr[-2000:])
    assert "note:" not in r.stderr


def test_train_with_endless_epochs_is_one_line(tmp_path):
    _one_error_line(_cli("train", "mlp", "--epochs", "10000000000", cwd=tmp_path), "more than the limit")


def test_the_work_limit_of_fit_follows_symnn_max_work(monkeypatch):
    import numpy as np

    from symnn.errors import InputError
    from symnn.nn import Dense, Sequential, Sigmoid

    X, y = np.zeros((4, 2)), np.zeros(4)
    monkeypatch.setenv("SYMNN_MAX_WORK", "100")
    with pytest.raises(InputError, match="training 3 epochs on 4 samples would take about 3e\\+05 multiply-adds"):
        Sequential([Dense(2, 1), Sigmoid()], seed=0).fit(X, y, epochs=3, batch_size=4)
    monkeypatch.setenv("SYMNN_MAX_WORK", "1M")
    net = Sequential([Dense(2, 1), Sigmoid()], seed=0).fit(X, y, epochs=3, batch_size=4)
    assert len(net.history["loss"]) == 3


# -- 10. wording ------------------------------------------------------------------------------------


@pytest.mark.parametrize("layers", ["2", 2.5, True, None.__class__])
def test_backprop_layers_must_be_an_integer(layers):
    import symnn
    from symnn.errors import InputError

    with pytest.raises(InputError, match=r"--layers must be an integer between 2 and 4 \(got "):
        symnn.derive("backprop", layers=layers)


def test_an_empty_X_is_refused_without_a_batch_size_note(capsys):
    import numpy as np

    from symnn.errors import InputError
    from symnn.nn import Dense, Sequential, Sigmoid

    for X in (np.zeros((0, 2)), np.zeros(0)):
        with pytest.raises(InputError, match="X is empty|X must be 2-D"):
            Sequential([Dense(2, 1), Sigmoid()], seed=0).fit(X, np.zeros(0), epochs=1)
    assert "note" not in capsys.readouterr().err


@pytest.mark.parametrize("expr", ["log(0)*x", "x + log(0)", "log(0)"])
def test_an_undefined_expression_is_refused_in_one_line(expr):
    r = _cli("derive", "--expr", expr)
    _one_error_line(r, "the expression is undefined: it reads as")
    assert "zoo (complex infinity, e.g. log(0))" in r.stderr and "does not hold" not in r.stderr


def test_an_undefined_sympy_expression_is_refused():
    import sympy as sp

    import symnn
    from symnn.errors import InputError

    x = sp.Symbol("x")
    for expr in (sp.zoo * x, x + sp.nan, x + sp.oo, x - sp.oo):
        with pytest.raises(InputError, match="the expression is undefined"):
            symnn.derive(expr, wrt=x)


# -- 5. an error about a data file never quotes its cells ------------------------------------------

SECRET = "hunter2"


@pytest.mark.parametrize(
    "text, args, says",
    [
        ("a,b,t\n1,2,3\n4,hunter2,6\n", ["--target", "t"], "line 3, column 'b': the cell is not a number"),
        ("a,b,t\n1,2,3\n4,1e999hunter2,6\n", ["--target", "t"], "line 3, column 'b': the cell is not a number"),
        ("password=hunter2,b,t\n1,2,3\n", ["--target", "nope"], "holds numbers or name=value cells"),
        ("password=hunter2,token=x,1\n1,2,3\n", [], "holds numbers or name=value cells"),
        ("1,hunter2,3\n1,2,3\n", ["--target", "t"], "holds numbers or name=value cells"),
        ("a,b,t\n1,2,hunter2\n3,4,hunter2\n", ["--target", "t"], "line 2, column 't': the cell is not a number"),
        ("1,hunter2,hunter2\n1,2,3\n", ["--target", "t"], "two columns (2 and 3) have the same name"),
        ("1,hunter2,3\n1,x,3\n", ["--target", "1"], "line 2, column 'number 2': the cell is not a number"),
        ("1,2,hunter2\n1,2,x\n", ["--target", "hunter2"], "line 2, column 'number 3': the cell is not a number"),
    ],
)
def test_train_data_errors_name_the_line_and_column_never_the_cell(tmp_path, text, args, says):
    (tmp_path / "d.csv").write_text(text)
    r = _cli("train", "mlp", "--data", "d.csv", *args, "--epochs", "1", cwd=tmp_path)
    _one_error_line(r, says)
    assert SECRET not in r.stderr and SECRET not in r.stdout


def test_table_readers_never_quote_a_cell(tmp_path):
    from symnn.errors import SymnnError
    from symnn.nn.preprocessing import Preprocessing
    from symnn.nn.tables import read_rows, read_table

    cases = [
        ("a,t\n1,x\n2,y\n", dict(target="t", classes=False)),
        ("a,t\n1,hunter2\n2,hunter2\n", dict(target="t", classes=True)),
        ("a,t\n" + "1,hunter2\n", dict(target="t", classes=True)),
    ]
    for text, options in cases:
        (tmp_path / "t.csv").write_text(text.replace("x", SECRET))
        with pytest.raises(SymnnError) as info:
            read_table(tmp_path / "t.csv", **options)
        assert SECRET not in str(info.value)
    (tmp_path / "t.csv").write_text("a,t\n1,hunter2\n")
    prep = Preprocessing(features=["a"], target="t", classes=["no", "yes"])
    with pytest.raises(SymnnError, match="the class there is not one of the training classes") as info:
        read_rows(tmp_path / "t.csv", prep, labelled=True)
    assert SECRET not in str(info.value)


def test_a_long_header_is_listed_short(tmp_path):
    from symnn.errors import InputError
    from symnn.nn.tables import read_table

    names = [f"column_with_a_long_name_{i}" for i in range(30)]
    (tmp_path / "t.csv").write_text(",".join(names) + "\n" + ",".join("1" * 30) + "\n")
    with pytest.raises(InputError) as info:
        read_table(tmp_path / "t.csv", "nope")
    message = str(info.value)
    assert "... (30 in all)" in message and len(message) < 500 and names[20] not in message


def test_predict_a_headerless_csv_does_not_quote_a_cell(model_and_fifos):
    (model_and_fifos / "bad.csv").write_text("1,2\n3,hunter2\n")
    r = _cli("predict", "m.npz", "--data", "bad.csv", cwd=model_and_fifos)
    assert SECRET not in r.stderr and "Traceback" not in r.stderr and r.returncode == 2, r.stderr


def test_many_epochs_on_a_tiny_set_count_each_epochs_own_cost(tmp_path):
    """2 samples, 10**8 epochs: little arithmetic, but a day of per-epoch work; refused at once."""
    (tmp_path / "ok.csv").write_text("a,b,label\n1,2,0\n3,4,1\n")
    r = _cli("train", "mlp", "--data", "ok.csv", "--target", "label", "--epochs", "100000000", cwd=tmp_path)
    assert r.returncode == 2 and "more than the limit" in r.stderr and "Traceback" not in r.stderr, r.stderr


@pytest.mark.parametrize("timeout", ["1e308", "inf", "nan", "-1"])
def test_a_timeout_out_of_range_is_one_line(timeout):
    _one_error_line(_cli("derive", "--expr", "x", "--timeout", timeout), "timeout must be a number of seconds from 0")


@pytest.mark.parametrize(
    "args, what",
    [
        (["activation", "--activation", "log(0)*x"], "the activation is undefined"),
        (["cost-functions", "--cost", "log(0)*yhat"], "the cost is undefined"),
        (["cost", "--activation", "x*log(0)"], "the activation is undefined"),
    ],
)
def test_an_undefined_activation_or_cost_is_one_line(args, what):
    _one_error_line(_cli("derive", *args), what)


@pytest.mark.parametrize("path", ["", None, 123, b"m.npz"])
def test_load_takes_a_path(path):
    from symnn.errors import InputError
    from symnn.nn import Sequential

    with pytest.raises(InputError, match="give a model file's path"):
        Sequential.load(path)


def test_a_model_path_with_a_nul_is_shown_escaped():
    from symnn.errors import FileError
    from symnn.nn import Sequential

    with pytest.raises(FileError, match=r"'a\\x00b' is not a valid file name"):
        Sequential.load("a\0b")


def test_an_empty_out_folder_is_refused(tmp_path):
    from symnn.errors import FileError
    from symnn.outputs import folder_state

    _one_error_line(_cli("filter", "--kernel", "blur", "--out", "", cwd=tmp_path), "--out is empty")
    assert os.listdir(tmp_path) == []
    with pytest.raises(FileError, match="--out is empty"):
        folder_state("")


def test_course_build_out_empty_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    from symnn.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["course", "build", "--out", "", "--lessons", "1"]) == 2
    assert "--out is empty" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_symnns_warnings_are_one_line_in_library_use_too(tmp_path):
    import subprocess
    import sys

    code = (
        "import warnings, symnn\n"
        "from symnn.cachedir import CacheWarning\n"
        "warnings.warn('the cache\\nis damaged', CacheWarning)\n"
        "warnings.warn('not ours', UserWarning)\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    lines = p.stderr.splitlines()
    assert lines[0] == "symnn: warning: the cache is damaged"
    assert "UserWarning: not ours" in lines[1]  # other libraries' warnings keep Python's format
