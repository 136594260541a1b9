"""python bench/seeds.py [--nets mlp,cnn] [--seeds 0-9]: the test accuracy of `symnn train mlp`
and `symnn train cnn` with their defaults on the digits, for each seed (the seed draws the
80/20 split, the initial weights and the mini-batch order), and the mean and range — the
figures the README quotes. Targets: the CNN ≥ 0.97 on every seed with mean ≥ 0.975, the MLP
≥ 0.96 on every seed."""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

TARGET = {"mlp": (0.96, 0.0), "cnn": (0.97, 0.975)}  # every seed, mean


def train(net: str, seed: int, lecture: bool = False) -> tuple[float, float]:
    """(test accuracy, seconds of fit) of `symnn train NET --seed seed` with its defaults; with
    lecture, the CNN the command trained before (8 filters, no padding, 20 epochs at η = 0.5
    constant: build_cnn()'s defaults), the time budget the new defaults must keep."""
    from symnn.commands.train import DEFAULT_ACTIVATION, DEFAULT_COST, DEFAULT_SCHEDULE, build_net, defaults
    from symnn.commands.train_cnn import CLI_FILTERS, CLI_PADDING, build_cnn
    from symnn.nn.data import load

    epochs, lr, batch, hidden = defaults(net, "digits")
    schedule = DEFAULT_SCHEDULE[net]
    data = load("digits", seed=seed, images=net == "cnn")
    if net == "cnn" and lecture:
        model, epochs, schedule = build_cnn(data.X_train.shape[1:], seed), 20, "constant"
    elif net == "cnn":
        model = build_cnn(data.X_train.shape[1:], seed, CLI_FILTERS, data.n_classes, padding=CLI_PADDING)
    else:
        model = build_net(net, data, hidden, DEFAULT_ACTIVATION[net], DEFAULT_COST[net], seed, batch)
    t0 = time.perf_counter()
    model.fit(data.X_train, data.y_train, epochs=epochs, lr=lr, batch_size=batch, schedule=schedule, progress=False)
    return model.accuracy(data.X_test, data.y_test), time.perf_counter() - t0


def _seeds(text: str) -> list[int]:
    a, _, b = text.partition("-")
    return list(range(int(a), int(b or a) + 1))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python bench/seeds.py")
    p.add_argument("--nets", default="mlp,cnn")
    p.add_argument("--seeds", default="0-9")
    args = p.parse_args(argv)
    failed = 0
    runs = [(net, False) for net in args.nets.split(",")]
    runs += [("cnn", True)] if "cnn" in args.nets.split(",") else []
    seconds = {}
    for net, lecture in runs:
        name = "lecture cnn (before)" if lecture else net
        train(net, 0, lecture)  # compile outside the timing
        rows = [(seed, *train(net, seed, lecture)) for seed in _seeds(args.seeds)]
        accs = [a for _, a, _ in rows]
        for seed, acc, t in rows:
            print(f"{name} seed {seed}: test accuracy {acc:.4f}  fit {t:.2f} s")
        seconds[name] = sum(t for *_, t in rows) / len(rows)
        least, mean = TARGET[net]
        ok = min(accs) >= least and sum(accs) / len(accs) >= mean
        failed += not ok and not lecture
        verdict = "" if lecture else f" (target ≥ {least} each{f', mean ≥ {mean}' if mean else ''}: "
        verdict += "" if lecture else ("met)" if ok else "NOT met)")
        print(
            f"{name}: mean {sum(accs) / len(accs):.4f}, range {min(accs):.4f}–{max(accs):.4f} over seeds "
            f"{args.seeds}; fit {seconds[name]:.2f} s a seed{verdict}"
        )
    if "cnn" in seconds:
        ratio = seconds["cnn"] / seconds["lecture cnn (before)"]
        print(f"cnn fit time / the lecture cnn's (before): {ratio:.2f}x (budget: ≤ 1.00x)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
