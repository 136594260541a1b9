"""`symnn train perceptron|mlp|cnn`: train a small net from the derived kernels."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from symnn.commands.train_data import add_data_options, load_data
from symnn.nn.train import MODES as FIT_MODES
from symnn.wording import plural

if TYPE_CHECKING:
    from symnn.nn.model import Sequential

MODES = (*FIT_MODES, "all")  # fit's modes, or all three drawn together

NETS = {
    "perceptron": "the lecture's perceptron: one dense layer on the study table (or another dataset)",
    "mlp": "a multi-layer perceptron: dense layers with hidden sizes of your choice (or --layers)",
    "cnn": "the lecture's CNN on the digits: conv 12×3×3 (padding 1) → ReLU → max-pool 2×2 → flatten → dense 10 → "
    "softmax (or your own stack: --layers)",
}
DATASETS = ("study", "study2", "xor", "digits")
SHOWN_ROWS = 20  # a regression prints each test row's prediction up to this many

# net -> dataset ("*" for any other) -> epochs, η, mini-batch size, hidden sizes. The perceptron's
# mini-batch is half the study table, so that --mode all draws three different curves.
DEFAULTS: dict[str, dict[str, tuple[int, float, int, list[int]]]] = {
    "perceptron": {"*": (200, 0.5, 4, []), "xor": (200, 0.5, 2, [])},
    "mlp": {"*": (30, 3.0, 10, [30]), "xor": (2000, 2.0, 4, [3])},
    "cnn": {"*": (9, 0.5, 32, [])},
}
DEFAULT_DATASET = {"perceptron": "study", "mlp": "digits", "cnn": "digits"}
DEFAULT_ACTIVATION = {"perceptron": "sigmoid", "mlp": "sigmoid", "cnn": "relu"}
DEFAULT_SCHEDULE = {"perceptron": "constant", "mlp": "constant", "cnn": "cosine"}
DEFAULT_COST = {"perceptron": "quadratic", "mlp": "quadratic", "cnn": "softmax-cross-entropy"}


def complete_argv(rest: list[str]) -> list[str]:
    """`symnn train --layers SPEC ...` without NET: cnn when SPEC takes images, else mlp."""
    if not rest or not rest[0].startswith("-") or rest[0] in ("-h", "--help"):
        return rest
    spec = None
    for i, arg in enumerate(rest):
        if arg == "--layers" and i + 1 < len(rest):
            spec = rest[i + 1]
        elif arg.startswith("--layers="):
            spec = arg.split("=", 1)[1]
    if spec is None:
        return rest
    from symnn.errors import InputError
    from symnn.nn.layerspec import is_images

    try:
        net = "cnn" if is_images(spec) else "mlp"
    except InputError:
        net = "mlp"  # the stack's own error comes when it is read
    return [net, *rest]


def defaults(net: str, dataset: str) -> tuple[int, float, int, list[int]]:
    """(epochs, η, mini-batch size, hidden sizes) of `symnn train NET` on dataset."""
    table = DEFAULTS[net]
    return table.get(dataset, table["*"])


def _shown(net: str, index: int, fmt=str) -> str:
    """The default of one setting, per dataset where it differs: "200", or "30; 2000 for xor"."""
    table = DEFAULTS[net]
    text = fmt(table["*"][index])
    for dataset, values in table.items():
        if dataset != "*" and values[index] != table["*"][index]:
            text += f"; {fmt(values[index])} for {dataset}"
    return text


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.epilog = (
        "With --layers SPEC, NET may be left out: `symnn train --layers conv8x3,relu,maxpool2,flatten,dense10` "
        "trains a cnn (a stack with conv, pool or flatten), any other stack an mlp."
    )
    sub = p.add_subparsers(dest="net", metavar="NET", required=True)
    for net, text in NETS.items():
        q = sub.add_parser(net, help=text, description=text)
        _add_options(q, net)


def _add_options(q: argparse.ArgumentParser, net: str) -> None:
    if net == "cnn":
        q.add_argument("--dataset", choices=("digits",), default=None, help="the bundled 8x8 digits (default)")
    else:
        q.add_argument(
            "--dataset",
            choices=DATASETS,
            default=None,
            help="the lecture's study table (8 rows) or its second one, XOR (4 rows), or the bundled 8x8 "
            f"digits (default: {DEFAULT_DATASET[net]})",
        )
        q.add_argument(
            "--mode",
            choices=MODES,
            default="minibatch",
            help="one sample per update, the whole set, mini-batches, or all three drawn together (default: minibatch)",
        )
    add_data_options(q, net)
    q.add_argument("--epochs", type=int, metavar="N", help=f"passes over the training set (default: {_shown(net, 0)})")
    q.add_argument("--lr", type=float, metavar="ETA", help=f"learning rate η (default: {_shown(net, 1)})")
    q.add_argument("--batch-size", type=int, metavar="N", help=f"samples per mini-batch (default: {_shown(net, 2)})")
    from symnn.nn.optimizers import CLASSES, NAMES

    own = ", ".join(f"{name} {CLASSES[name].default_lr:g}" for name in NAMES if name != "sgd")
    q.add_argument(
        "--optimizer",
        choices=NAMES,
        default="sgd",
        help="how step 5 updates the weights, each update a kernel derived by `symnn derive optimizer` "
        f"(default: sgd; with another optimizer --lr defaults to its own: {own})",
    )
    from symnn.nn.train import SCHEDULES

    q.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default=None,
        help="the learning rate over the epochs: η each epoch, or cosine: η·(1 + cos(π(e − 1)/E))/2 for epoch e "
        f"of E (default: {DEFAULT_SCHEDULE[net]})",
    )
    if net != "perceptron":
        q.add_argument(
            "--layers",
            metavar="SPEC",
            help="your own layer stack, e.g. "
            + ("conv8x3,relu,maxpool2,flatten,dense10" if net == "cnn" else "dense30,tanh,dense10,sigmoid")
            + ": denseN, convFxK (/S stride, pP padding: conv16x3/2p1), maxpoolK, avgpoolK, flatten, any "
            "activation name or expression in x; sizes follow from the data. NET may be left out: "
            "`symnn train --layers ...` is cnn when the stack has conv/pool/flatten, else mlp",
        )
    if net == "mlp":
        q.add_argument(
            "--hidden",
            metavar="SIZES",
            help=f"hidden layer sizes, e.g. 30 or 30,20 (default: {_shown(net, 3, _sizes)})",
        )
    from symnn.ops import activation_names

    where = " after the convolution" if net == "cnn" else ""
    q.add_argument(
        "--activation",
        metavar="NAME|EXPR",
        help=f"the activation{where}: {' | '.join(activation_names())}, a name with parameters such as "
        f"elu(alpha=0.5), or an expression in one variable such as x*tanh(x) (default: {DEFAULT_ACTIVATION[net]})",
    )
    output = (
        "; with another cost the dense layer's outputs go through a sigmoid (or write your own --layers)"
        if net == "cnn"
        else ""
    )
    q.add_argument(
        "--cost",
        metavar="NAME|EXPR",
        help="quadratic | cross-entropy | softmax-cross-entropy | any cost of `symnn derive cost-functions "
        "--cost all`, with parameters such as huber(delta=0.5), or an expression in yhat and y "
        f"(default: {DEFAULT_COST[net]}{output})",
    )
    if net != "cnn":
        q.add_argument("--explain", action="store_true", help="narrate the lecture's seven steps with real numbers")
    q.add_argument("--seed", type=int, default=0, metavar="N", help="random seed: weights, order, split (default: 0)")
    plot = "the loss curve, the learned detectors and one digit's feature maps" if net == "cnn" else "the loss curve(s)"
    q.add_argument("--plot", metavar="FILE", help=f"write a PNG of {plot}")
    q.add_argument("--force", action="store_true", help="replace --plot/--save FILE even if symnn did not write it")
    if net != "perceptron":
        from symnn.commands.models import add_save_option

        add_save_option(q)
    q.add_argument("-q", "--quiet", action="store_true", help="no progress (bar or lines)")
    if net == "cnn":
        q.add_argument(
            "--compiled",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="run each epoch in the compiled epoch driver (compiled once per architecture, then "
            "cached; default: when already compiled or the run is long)",
        )
    q.add_argument("--float32", action="store_true", help="train in float32 (the same kernels compiled for float32)")
    q.add_argument(
        "--fastmath",
        action="store_true",
        help="kernels compiled to reassociate sums (faster; the last digits differ from the written order)",
    )
    q.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="threads for Numba's parallel loops and for BLAS (default: Numba NUMBA_NUM_THREADS, all cores "
        "unless set; the kernels' BLAS 1 unless OPENBLAS_NUM_THREADS is set)",
    )
    q.add_argument(
        "--eval-every",
        type=int,
        metavar="N",
        help="evaluate the test split every N epochs (and after the last), shown on the progress line "
        "and kept in a --save'd history (default: never during training; the test accuracy is printed at the end)",
    )
    q.add_argument(
        "--exact-order",
        action="store_true",
        help="every sum in its written order at any size: the dense and convolution products stay loops "
        "instead of going to BLAS (slower on large layers; bit-reproducible)",
    )


def learning_rate(args: argparse.Namespace, default: float) -> float:
    """η: --lr, else the table's default for SGD, else the chosen optimizer's own default."""
    if args.lr is not None:
        return args.lr
    if args.optimizer == "sgd":
        return default
    from symnn.nn.optimizers import CLASSES

    return CLASSES[args.optimizer].default_lr


def _sizes(sizes: list[int]) -> str:
    return ",".join(map(str, sizes))


def check_common(args: argparse.Namespace) -> None:
    """The numeric options, refused before any data loads or any kernel compiles."""
    from symnn.errors import InputError

    seed, lr = getattr(args, "seed", 0), getattr(args, "lr", None)
    if not 0 <= seed < 2**32:
        raise InputError(f"--seed must be an integer from 0 to {2**32 - 1} (got {seed})")
    for name in ("epochs", "batch_size", "eval_every"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            raise InputError(f"--{name.replace('_', '-')} must be a positive integer (got {value})")
    if lr is not None and not (lr > 0 and lr != float("inf")):
        raise InputError(f"--lr must be a positive finite number such as 0.5 (got {lr})")
    mode = getattr(args, "mode", None)
    if getattr(args, "batch_size", None) is not None and mode in ("sgd", "batch"):
        each = "each sample" if mode == "sgd" else "the whole training set"
        raise InputError(
            f"--batch-size does not apply to --mode {mode}, which updates after {each}; "
            "give it with --mode minibatch or all"
        )
    from symnn.nn import activation_layer, get_loss

    if getattr(args, "layers", None) is not None:
        for name in ("activation", "hidden"):
            if getattr(args, name, None) is not None:
                raise InputError(f"give either --layers (the whole stack) or --{name}, not both")
        from symnn.nn.layerspec import tokens

        tokens(args.layers)
    net = getattr(args, "net", "mlp")
    if getattr(args, "activation", None) is None:
        args.activation = DEFAULT_ACTIVATION.get(net, "sigmoid") if getattr(args, "layers", None) is None else None
    else:
        activation_layer(args.activation)
    if getattr(args, "cost", None) is None:
        args.cost = DEFAULT_COST.get(net, "quadratic")
    if getattr(args, "schedule", None) is None:
        args.schedule = DEFAULT_SCHEDULE.get(net, "constant")
    get_loss(args.cost)


def _hidden(spec: str | None, default: list[int]) -> list[int]:
    from symnn.errors import InputError

    if spec is None:
        return default
    try:
        sizes = [int(s) for s in spec.split(",") if s.strip()]
    except ValueError:
        raise InputError(
            f"--hidden takes positive integers separated by commas, e.g. 30 or 30,20 (got {spec!r})"
        ) from None
    if not sizes or min(sizes) < 1:
        raise InputError(f"--hidden takes positive integers separated by commas, e.g. 30 or 30,20 (got {spec!r})")
    return sizes


def check_net_memory(sizes: list[int], n_samples: int, batch: int, what: str) -> None:
    """Refuse, before allocating anything, a net whose weights and activations exceed the limit:
    float64 weights with their gradients and update buffers (×4), every layer's z and a for the
    n samples of a loss evaluation, and a batch's buffers."""
    from symnn.limits import check_memory

    weights = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    values = sum(sizes)
    check_memory(8 * (4 * weights + 4 * (n_samples + batch) * values), what)


def stack_net(spec: str, data, cost: str, seed: int, batch: int = 1) -> Sequential:
    """The net of `--layers SPEC` (symnn.nn.layerspec) for data's samples; one line when its last
    layer does not give one output per class (or one value for a regression), or it is too big."""
    from symnn.errors import InputError
    from symnn.limits import check_memory
    from symnn.nn import Sequential
    from symnn.nn.layerspec import build_layers

    shape = tuple(data.X_train.shape[1:])
    net = Sequential(build_layers(spec, shape), loss=cost, seed=seed)
    out = net.output_shape(shape)
    want = data.n_classes if data.task == "classification" else 1
    if out != (want,):
        what = plural(want, "class", "classes") if data.task == "classification" else "one value to predict"
        gives = plural(out[0], "output") if len(out) == 1 else f"outputs shaped {out}"
        raise InputError(f"--layers: the stack gives {gives}, but {data.name} has {what}: end it with dense{want}")
    n = len(data.X_train)
    check_memory(net.memory_needed(shape, n, batch), f"the --layers net on {plural(n, 'sample')}")
    return net


def build_net(kind: str, data, hidden: list[int], activation: str, cost: str, seed: int, batch: int = 1) -> Sequential:
    from symnn.nn import Dense, Sequential, activation_layer

    n_out = data.n_classes if data.task == "classification" else 1
    if kind == "perceptron":
        sizes = [data.n_features, n_out]
    else:
        sizes = [data.n_features, *hidden, n_out]
    check_net_memory(
        sizes, len(data.X_train), batch, f"a {'-'.join(map(str, sizes))} net on {plural(len(data.X_train), 'sample')}"
    )
    layers = []
    for n_in, n_out_ in zip(sizes[:-1], sizes[1:]):
        layers += [Dense(n_in, n_out_), activation_layer(activation)]
    return Sequential(layers, loss=cost, seed=seed)


def run(args: argparse.Namespace) -> int:
    if args.net == "cnn":
        from symnn.commands.train_cnn import run_cnn

        return run_cnn(args)
    check_common(args)
    hidden_spec = getattr(args, "hidden", None)
    _hidden(hidden_spec, [])  # a bad --hidden is refused before the data loads
    if args.plot:
        from symnn.outputs import check_writable

        check_writable(args.plot, args.force)
    from symnn.commands.models import check_save, save_trained

    check_save(args)
    data, name = load_data(args)
    epochs, lr, batch, hidden = defaults(args.net, name if args.data is None else "*")
    epochs = args.epochs if args.epochs is not None else epochs
    lr = learning_rate(args, lr)
    batch = min(args.batch_size if args.batch_size is not None else batch, len(data.X_train))
    hidden = _hidden(hidden_spec, hidden)
    modes = [m for m in MODES if m != "all"] if args.mode == "all" else [args.mode]

    curves = {}
    for mode in modes:
        if args.net != "perceptron" and args.layers is not None:
            net = stack_net(args.layers, data, args.cost, args.seed, batch)
        else:
            net = build_net(args.net, data, hidden, args.activation, args.cost, args.seed, batch)
        if args.float32:
            net.astype("float32")
        say = (lambda line: print(line)) if args.explain and mode == modes[0] else None
        seconds = fit_timed(net, data, args, epochs, lr, batch, mode=mode, explain=say)
        curves[mode_label(mode, batch, len(data.X_train))] = net.history["loss"]
        label = f"[{mode}] " if len(modes) > 1 else ""
        print(f"{label}{net!r}")

        print(
            f"{label}trained {plural(epochs, 'epoch')} on {name} ({plural(len(data.X_train), 'sample')}, "
            f"{mode_label(mode, batch, len(data.X_train))}, {rate_text(args, lr)}) in {seconds:.2f} s; "
            f"final loss {net.history['loss'][-1]:.6f}"
        )
        if data.task == "classification":
            print(f"{label}test accuracy: {net.accuracy(data.X_test, data.y_test):.4f}")
        else:
            pred = net.predict(data.X_test)
            for i, (p, t) in enumerate(zip(pred[:SHOWN_ROWS], data.y_test), 1):
                print(f"{label}  row {i}: ŷ = {p:.4f}   y = {t:.4f}")
            if len(pred) > SHOWN_ROWS:
                import numpy as np

                rmse = float(np.sqrt(np.mean((np.ravel(pred) - data.y_test) ** 2)))
                print(f"{label}  ... and {plural(len(pred) - SHOWN_ROWS, 'more row')}; test RMSE {rmse:.4f}")
    if args.plot:
        _plot(curves, name, args.plot, args.force)
        print(f"wrote {args.plot}")
    save_trained(args, net, {"epochs": epochs, "lr": lr, "batch_size": batch, "mode": mode}, data)
    return 0


def rate_text(args: argparse.Namespace, lr: float) -> str:
    """How the summary line names the update: "sgd with η = 0.5", "... on a cosine schedule"."""
    schedule = getattr(args, "schedule", "constant")
    return f"{args.optimizer} with η = {lr}" + ("" if schedule == "constant" else f" on a {schedule} schedule")


def fit_timed(net: Sequential, data, args: argparse.Namespace, epochs: int, lr: float, batch: int, **options) -> float:
    """Seconds of net.fit on data's training split with the command's options (optimizer,
    progress, fastmath, threads; the test split every --eval-every epochs) and the given ones."""
    from symnn.nn.threads import set_threads

    set_threads(getattr(args, "threads", None))
    t0 = time.perf_counter()
    net.fit(
        data.X_train,
        data.y_train,
        epochs=epochs,
        lr=lr,
        batch_size=batch,
        optimizer=args.optimizer,
        schedule=args.schedule,
        validation=(data.X_test, data.y_test) if getattr(args, "eval_every", None) else None,
        eval_every=getattr(args, "eval_every", None),
        progress=not args.quiet,
        fastmath=args.fastmath,
        exact_order=args.exact_order,
        **options,
    )
    return time.perf_counter() - t0


def mode_label(mode: str, batch: int, n: int) -> str:
    """How many samples one update sees, as the plot's legend and the summary line say it."""

    if mode == "sgd":
        return "sgd: one sample per update"
    if mode == "batch":
        return f"batch: all {plural(n, 'sample')} per update"
    return f"minibatch: {plural(batch, 'sample')} per update"


def _plot(curves: dict, dataset: str, path: str, force: bool) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from symnn.outputs import save_figure

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, losses in curves.items():
        ax.plot(range(1, len(losses) + 1), losses, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("cost (mean over the training set)")
    ax.set_title(f"Training on {dataset}")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path, force)
    plt.close(fig)
