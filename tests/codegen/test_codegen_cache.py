"""The kernel cache: warm starts in a second process (no compile, no factory, no SymPy),
concurrent builders, an unwritable cache directory, damaged modules, and the codegen CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import sympy as sp

from symnn.cli import main
from symnn.codegen import CacheWarning, build, cache_dir, elementwise, kernel, registry
from symnn.codegen import cache as kcache

z = sp.Symbol("z", real=True)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

WARM = """
import json, sys
import numpy as np
from symnn.codegen import kernel, cache
k = kernel("conv2d.forward")
y = k(np.arange(9.0).reshape(3, 3), np.array([[0.0, 1.0], [2.0, 3.0]]))
st = k.dispatcher.stats
print(json.dumps({"y": y.tolist(), "hits": sum(st.cache_hits.values()),
                  "misses": sum(st.cache_misses.values()), "path": str(k.path),
                  "factory_module_imported": "symnn.kernels.conv2d" in sys.modules,
                  "sympy_imported": "sympy" in sys.modules,
                  "fingerprint": cache.source_fingerprint()}))
"""


def run_python(code: str, cache: str) -> subprocess.Popen:
    env = {**os.environ, "SYMNN_CACHE_DIR": str(cache), "PYTHONPATH": ROOT}
    return subprocess.Popen(
        [sys.executable, "-c", code], env=env, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def result(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("SYMNN_CACHE_DIR", str(d))
    return d


def forget(directory) -> None:
    """Drop this process's loaded kernels for a cache directory (as a new process would)."""
    for key in [k for k in registry._LOADED if k[0] == str(directory)]:
        del registry._LOADED[key]


def cold_then_warm(code: str, folder):
    """The results of two processes running `code` on one fresh cache (empty, then warm), and
    that cache folder."""
    for attempt in range(3):  # other sessions may edit symnn sources meanwhile
        d = folder.with_name(f"{folder.name}{attempt}")
        cold = result(run_python(code, d))
        warm = result(run_python(code, d))
        if cold["fingerprint"] == warm["fingerprint"]:
            break
    return cold, warm, d


def test_second_process_loads_without_compiling_or_running_the_factory(tmp_path):
    cold, warm, d = cold_then_warm(WARM, tmp_path / "warm")
    assert cold["y"] == warm["y"] == [[19, 25], [37, 43]]
    assert cold["misses"] == 1 and cold["factory_module_imported"]
    assert warm["misses"] == 0 and warm["hits"] >= 1, warm
    assert not warm["factory_module_imported"] and not warm["sympy_imported"], warm
    assert warm["path"] == cold["path"]
    index = list((d / "index").glob("*.json"))
    assert len(index) == 1 and json.loads(index[0].read_text())["name"] == "conv2d.forward"


TRAIN_MLP = """
import json, sys
from symnn.cli import main
from symnn.codegen import cache
main(["train", "mlp", "--epochs", "1"])
print(json.dumps({"sympy": "sympy" in sys.modules, "sklearn": "sklearn" in sys.modules,
                  "fingerprint": cache.source_fingerprint()}))
"""


def test_a_warm_train_mlp_imports_neither_sympy_nor_sklearn(tmp_path):
    """The warm start of `symnn train mlp`: the fused epoch and the per-layer kernels from the
    index, the digits split from the cache folder."""
    cold, warm, _ = cold_then_warm(TRAIN_MLP, tmp_path / "mlp")
    assert cold["sympy"] and not cold["sklearn"]  # the cold split runs scikit-learn in a child
    assert not warm["sympy"] and not warm["sklearn"], warm


def test_concurrent_builders_agree(tmp_path):
    code = (
        "import json, numpy as np\nfrom symnn.codegen import kernel\n"
        "x = np.random.default_rng(0).normal(size=(6, 5)); k = np.ones((2, 3))\n"
        "print(json.dumps({'y': kernel('conv2d.forward')(x, k).tolist()}))"
    )
    procs = [run_python(code, tmp_path / "c") for _ in range(4)]
    outs = [result(p)["y"] for p in procs]
    assert all(o == outs[0] for o in outs) and np.array(outs[0]).shape == (5, 3)
    modules = list((tmp_path / "c").glob("conv2d_forward-*.py"))
    assert len(modules) == 1 and kcache.check(modules[0].read_text()) is None
    assert not list((tmp_path / "c").glob(".*.tmp"))


def test_unwritable_cache_falls_back_with_one_warning(tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SYMNN_CACHE_DIR", str(blocker / "cache"))
    with pytest.warns(CacheWarning, match="cannot write the kernel cache") as rec:
        k = build(elementwise("test.unwritable", [z], [2 * z]))
        assert k(np.array([1.5])).tolist() == [3.0]
    assert len([w for w in rec if issubclass(w.category, CacheWarning)]) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build(elementwise("test.unwritable2", [z], [3 * z]))  # no second warning
    assert str(cache_dir()) != str(blocker / "cache") and k.path.parent == cache_dir()


def test_truncated_module_is_rebuilt_with_a_warning(fresh):
    spec = elementwise("test.truncated", [z], [z**2 + 1])
    k = build(spec)
    text = k.path.read_text()
    k.path.write_text(text[: len(text) // 2])
    forget(fresh)
    with pytest.warns(CacheWarning, match="damaged"):
        k2 = build(spec)
    assert k2(np.array([2.0])).tolist() == [5.0]
    assert k2.path.read_text() == text


def test_module_without_its_function_is_rebuilt(fresh):
    spec = elementwise("test.nofunction", [z], [z - 1])
    k = build(spec)
    text = k.path.read_text()
    body = text[: text.rindex(kcache.CHECKSUM)].replace("FUNCTION = 'test_nofunction'", "FUNCTION = 'other'")
    k.path.write_text(kcache.with_checksum(body))
    forget(fresh)
    with pytest.warns(CacheWarning, match="does not import"):
        k2 = build(spec)
    assert k2(np.array([2.0])).tolist() == [1.0] and k2.path.read_text() == text


# -- the CLI, on one cache directory -------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_cache(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli") / "cache"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYMNN_CACHE_DIR", str(d))
        kernel("conv2d.grad_input")
        build(elementwise("test.cli_dynamic", [z], [z / 2]))
        yield d


def test_codegen_list(cli_cache, capsys):
    assert main(["codegen", "list"]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()}
    assert rows["conv2d.grad_input"][1:3] == ["built", "registered"]
    assert rows["conv2d.grad_input"][3].endswith(".py")
    assert rows["conv2d.forward"][1:3] == ["not", "built"]
    assert rows["test.cli_dynamic"][1:3] == ["built", "dynamic"]


def test_codegen_show(cli_cache, capsys):
    assert main(["codegen", "show", "conv2d.grad_input"]) == 0
    out = capsys.readouterr().out
    assert out.index("SymPy expression") < out.index("# generated by symnn")
    assert "def conv2d_grad_input(G, K, dX):" in out and "δ(p, i + m)" in out
    assert main(["codegen", "show", "conv2d.grad_input", "--format", "latex"]) == 0
    assert r"\delta" in capsys.readouterr().out
    assert main(["codegen", "show", "test.cli_dynamic"]) == 0
    assert "out[k] = (1/2)*z_k" in capsys.readouterr().out


def test_codegen_unknown_name(cli_cache, capsys):
    assert main(["codegen", "show", "no.such.kernel"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown kernel 'no.such.kernel'" in err


def test_codegen_clear(cli_cache, capsys):
    assert main(["codegen", "clear"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("removed ") and int(out.split()[1]) >= 4
    assert not list(cli_cache.glob("*.py")) and not list((cli_cache / "index").glob("*.json"))
