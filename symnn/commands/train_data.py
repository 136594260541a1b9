"""The data options of `symnn train` (--data FILE and how to read it, symnn.nn.datafiles) and
the Dataset a run trains on: a bundled --dataset or the user's own --data."""

from __future__ import annotations

import argparse


def add_data_options(q: argparse.ArgumentParser, net: str) -> None:
    """--data FILE and how to read it (symnn.nn.datafiles)."""
    what = (
        "an image folder (one sub-folder per class) or an .npz (X, y)" if net == "cnn" else "a .csv or an .npz (X, y)"
    )
    q.add_argument("--data", metavar="FILE", help=f"train on your own data instead of --dataset: {what}")
    if net != "cnn":
        q.add_argument("--target", metavar="COLUMN", help="the CSV column to predict (needed with a .csv)")
        q.add_argument(
            "--features",
            metavar="COLS",
            help="the CSV columns to learn from, e.g. 'Study Hrs,Quiz' (default: all others)",
        )
        q.add_argument("--classes", action="store_true", help="the target holds class names: a classifier")
        q.add_argument(
            "--no-scale",
            action="store_true",
            help="keep a CSV's inputs as in the file (default: each column divided by its largest |value|)",
        )
    else:
        q.add_argument(
            "--image-size", metavar="HxW", help="resize an image folder's images, e.g. 28x28 (default: 28x28)"
        )
        q.add_argument("--grey", dest="grey", action="store_const", const=True, help="read images as grey (default)")
        q.add_argument("--rgb", dest="grey", action="store_const", const=False, help="read images as RGB (3 channels)")
    q.add_argument(
        "--standardize",
        action="store_true",
        help="inputs to mean 0, standard deviation 1 (fitted on the training split)",
    )
    q.add_argument(
        "--test-fraction",
        type=float,
        metavar="F",
        help="hold out this fraction of --data as the test set, e.g. 0.2 (seeded by --seed; default: none)",
    )
    q.add_argument("--test-data", metavar="FILE", help="the test set, a file like --data (default: --data itself)")


DATA_OPTIONS = ("target", "features", "classes", "no_scale", "image_size", "grey", "standardize", "test_fraction")


def load_data(args: argparse.Namespace, images: bool = False):
    """(Dataset, its name) from --data FILE or --dataset NAME; one line when both are given or
    when a --data option comes without --data."""
    import sys

    from symnn.errors import InputError
    from symnn.nn.data import load

    data_file, dataset = getattr(args, "data", None), getattr(args, "dataset", None)
    if data_file is not None and dataset is not None:
        raise InputError(f"give either --dataset {dataset} (bundled) or --data FILE (your own), not both")
    if data_file is None:
        for name in (*DATA_OPTIONS, "test_data"):
            value = getattr(args, name, None)
            if value is not None and (value is not False or name == "grey"):
                option = {"grey": "--grey/--rgb"}.get(name, f"--{name.replace('_', '-')}")
                raise InputError(f"{option} applies to your own data (--data FILE), not to a bundled --dataset")
        from symnn.commands.train import DEFAULT_DATASET

        dataset = dataset or DEFAULT_DATASET[args.net]
        return load(dataset, seed=args.seed, images=images), dataset
    from symnn.nn.datafiles import load_dataset
    from symnn.nn.images import parse_image_size

    size = getattr(args, "image_size", None)
    scaling = "standardize" if args.standardize else "none" if getattr(args, "no_scale", False) else "auto"
    if args.standardize and getattr(args, "no_scale", False):
        raise InputError("give either --standardize or --no-scale, not both")
    data, prep = load_dataset(
        data_file,
        target=getattr(args, "target", None),
        features=getattr(args, "features", None),
        classes=getattr(args, "classes", False),
        scaling=scaling,
        test_fraction=args.test_fraction,
        test_data=args.test_data,
        seed=args.seed,
        image_size=None if size is None else parse_image_size(size),
        grey=getattr(args, "grey", None),
        images=images,
        note=lambda line: print(f"note: {line}", file=sys.stderr),
    )
    args.preprocessing = prep  # how the inputs were prepared, for a saved model
    setattr(data, "preprocessing", prep)  # noqa: B010 - Dataset has no such field; a --data set carries it
    return data, data.name
