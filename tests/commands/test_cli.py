"""The command line as a Python user expects it: every sub-command has its own help with its
defaults, an option that does not apply is refused in one line (never ignored), and the lecture's
three training modes really differ."""

from __future__ import annotations

import re

import pytest

from symnn.cli import main
from symnn.commands.train import DEFAULTS, defaults


def _help(capsys, *args: str) -> str:
    with pytest.raises(SystemExit) as stop:
        main([*args, "--help"])
    assert stop.value.code == 0
    return re.sub(r"\s+", " ", capsys.readouterr().out)


@pytest.mark.parametrize("net", ["perceptron", "mlp", "cnn"])
def test_each_net_has_its_own_help_with_its_defaults(capsys, net):
    text = _help(capsys, "train", net)
    assert text.startswith(f"usage: symnn train {net} ")
    base = DEFAULTS[net]["*"]
    options = ["--epochs N", "--lr ETA", "--batch-size N"] + (["--hidden SIZES"] if net == "mlp" else [])
    for i, option in enumerate(options):
        shown = re.search(re.escape(option) + r" [^(]*\(default: ([^)]*)\)", text).group(1)
        value = ",".join(map(str, base[i])) if i == 3 else str(base[i])
        others = [
            f"{','.join(map(str, v[i])) if i == 3 else v[i]} for {d}"
            for d, v in DEFAULTS[net].items()
            if d != "*" and v[i] != base[i]
        ]
        assert shown == "; ".join([value, *others]), (option, shown)
    assert ("--hidden" in text) == (net == "mlp")
    assert ("--compiled" in text) == (net == "cnn")
    assert ("--explain" in text) == (net != "cnn") and ("--mode" in text) == (net != "cnn")


def test_course_and_codegen_actions_have_their_own_help(capsys):
    build, listing = _help(capsys, "course", "build"), _help(capsys, "course", "list")
    assert "--pdf" in build and "--out DIR" in build and "(default: ./course)" in build
    assert "--pdf" not in listing and "--out" not in listing and "--lessons SPEC" in listing
    show, clear = _help(capsys, "codegen", "show"), _help(capsys, "codegen", "clear")
    assert "NAME" in show and "--format" in show and "(default: text)" in show
    assert "--format" not in clear and "NAME" not in clear


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "perceptron", "--hidden", "5"], "`symnn train perceptron` has no option --hidden"),
        (["train", "perceptron", "--compiled"], "`symnn train perceptron` has no option --compiled"),
        (["train", "mlp", "--no-compiled"], "`symnn train mlp` has no option --no-compiled"),
        (["train", "cnn", "--hidden", "3"], "`symnn train cnn` has no option --hidden"),
        (["train", "cnn", "--mode", "sgd"], "`symnn train cnn` has no option --mode"),
        (["train", "cnn", "--explain"], "`symnn train cnn` has no option --explain"),
        (["train", "perceptron", "--layers", "dense1"], "`symnn train perceptron` has no option --layers"),
        (["train", "cnn", "--dataset", "xor"], "argument --dataset: invalid choice: 'xor'"),
        (["course", "list", "--pdf"], "`symnn course list` has no option --pdf"),
        (["course", "list", "--out", "elsewhere"], "`symnn course list` has no option --out"),
        (["codegen", "list", "--format", "latex"], "`symnn codegen list` has no option --format"),
        (["codegen", "clear", "dense.forward"], "`symnn codegen clear` takes no argument 'dense.forward'"),
        (["codegen", "show"], "the following arguments are required: NAME"),
        (["train"], "the following arguments are required: NET"),
        (["train", "perceptron", "--mode", "sometimes"], "argument --mode: invalid choice: 'sometimes'"),
    ],
)
def test_an_option_that_does_not_apply_is_refused_in_one_line(capsys, args, message):
    try:
        code = main(args)
    except SystemExit as stop:  # argparse's own refusals
        code = stop.code
    out, err = capsys.readouterr()
    assert code == 2 and out == "", (out, err)
    assert err.count("\n") == 1 and err.startswith("symnn: error: ") and message in err, err
    assert "--help`" in err  # where to look


@pytest.mark.parametrize("net, mode", [("perceptron", "batch"), ("perceptron", "sgd"), ("mlp", "sgd")])
def test_a_batch_size_for_a_mode_without_mini_batches_is_refused_in_one_line(capsys, net, mode):
    assert main(["train", net, "--mode", mode, "--batch-size", "3"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith(f"symnn: error: --batch-size does not apply to --mode {mode}, which updates after ")


def test_the_three_modes_differ_on_every_dataset_the_perceptron_trains_on():
    """The mini-batch default is smaller than each small table, so sgd, mini-batch and batch are
    three different schedules (with 8 rows and batches of 8, two of them were the same curve)."""
    from symnn.nn.data import load

    for dataset in ("study", "study2", "xor"):
        rows = len(load(dataset).X_train)
        batch = defaults("perceptron", dataset)[2]
        assert 1 < batch < rows, (dataset, batch, rows)


def test_mode_all_draws_three_different_curves_labelled_with_their_batch_sizes(monkeypatch, capsys, tmp_path):
    from symnn import outputs

    figures = []
    monkeypatch.setattr(outputs, "save_figure", lambda fig, path, force=False: figures.append(fig))
    assert main(["train", "perceptron", "--mode", "all", "--epochs", "5", "-q", "--plot", str(tmp_path / "m.png")]) == 0
    out = capsys.readouterr().out
    losses = [float(x) for x in re.findall(r"final loss ([0-9.]+)", out)]
    assert len(losses) == 3 and len(set(losses)) == 3, out
    (ax,) = figures[0].axes
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == [
        "sgd: one sample per update",
        "batch: all 8 samples per update",
        "minibatch: 4 samples per update",
    ]
    curves = [tuple(line.get_ydata()) for line in ax.get_lines()]
    assert len(set(curves)) == 3
    assert "trained 5 epochs on study (8 samples, minibatch: 4 samples per update, sgd with η = 0.5)" in out


def test_the_cnn_plot_numbers_detectors_from_1_as_the_book_does(monkeypatch, tmp_path):
    import numpy as np

    from symnn import outputs
    from symnn.commands.train_cnn import build_cnn, plot_cnn
    from symnn.nn.data import load

    figures = []
    monkeypatch.setattr(outputs, "save_figure", lambda fig, path, force=False: figures.append(fig))
    data = load("digits", images=True)
    net = build_cnn(data.X_train.shape[1:], seed=0)
    net.history["loss"] = [1.0, 0.5]
    plot_cnn(net, data, str(tmp_path / "cnn.png"))
    titles = [ax.get_title() for ax in figures[0].axes]
    assert [t for t in titles if t.startswith("detector")] == [f"detector {f}" for f in range(1, 9)]
    assert [t for t in titles if t.startswith("map")] == [f"map {f}" for f in range(1, 9)]
    assert not any(re.search(r"\b0\b", t) for t in titles if t.startswith(("detector", "map")))
    assert np.isfinite(net.layers[0].weight).all()


def test_codegen_show_builds_a_specialisation_named_by_its_label(capsys):
    """`symnn info` lists training's kernels by label; `codegen show LABEL` prints one, built on
    demand, with the sizes put in; a label that fixes an absurd size is an unknown kernel."""
    code = main(["codegen", "show", "maxpool.forward[k_h=2,k_w=2,s=2]"])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("kernel maxpool.forward[k_h=2,k_w=2,s=2]")
    assert "specialised to k_h = 2, k_w = 2, s = 2" in out and "def " in out
    assert main(["codegen", "show", "maxpool.forward[k_h=2000,k_w=2,s=2]"]) == 2
    assert "unknown kernel" in capsys.readouterr().err
