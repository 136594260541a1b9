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


def train(net: str, seed: int) -> tuple[float, float]:
    """(test accuracy, seconds of fit) of `symnn train NET --seed seed` with its defaults."""
    from symnn.commands.train import DEFAULT_ACTIVATION, DEFAULT_COST, build_net, defaults
    from symnn.commands.train_cnn import build_cnn
    from symnn.nn.data import load

    epochs, lr, batch, hidden = defaults(net, "digits")
    data = load("digits", seed=seed, images=net == "cnn")
    if net == "cnn":
        model = build_cnn(data.X_train.shape[1:], seed, n_classes=data.n_classes)
    else:
        model = build_net(net, data, hidden, DEFAULT_ACTIVATION[net], DEFAULT_COST[net], seed, batch)
    t0 = time.perf_counter()
    model.fit(data.X_train, data.y_train, epochs=epochs, lr=lr, batch_size=batch, progress=False)
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
    for net in args.nets.split(","):
        train(net, 0)  # compile outside the timing
        rows = [(seed, *train(net, seed)) for seed in _seeds(args.seeds)]
        accs = [a for _, a, _ in rows]
        for seed, acc, seconds in rows:
            print(f"{net} seed {seed}: test accuracy {acc:.4f}  fit {seconds:.2f} s")
        least, mean = TARGET[net]
        ok = min(accs) >= least and sum(accs) / len(accs) >= mean
        failed += not ok
        print(
            f"{net}: mean {sum(accs) / len(accs):.4f}, range {min(accs):.4f}–{max(accs):.4f} over seeds "
            f"{args.seeds}; fit {sum(s for *_, s in rows) / len(rows):.2f} s a seed "
            f"(target ≥ {least} each{f', mean ≥ {mean}' if mean else ''}: {'met' if ok else 'NOT met'})"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
