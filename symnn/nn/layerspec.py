"""A layer stack written as text, `symnn train --layers "conv8x3,relu,maxpool2,flatten,dense10"`.

Tokens, separated by commas (a comma inside parentheses belongs to its token):

    denseN            a fully connected layer with N outputs (its inputs: the previous layer's)
    convFxK           F filters of K×K (convFxKxL: K×L); then /S for the stride, pP for zero padding:
                      conv16x3/2p1 is Conv2D(C, 16, 3, stride=2, padding=1)
    maxpoolK, avgpoolK  K×K pooling, stride K (maxpoolK/S: stride S)
    flatten           images (C, H, W) to one row of C·H·W values
    anything else     an activation: a name (relu, elu(alpha=0.5), ...) or an expression in x

Each layer's input size is the previous one's output, starting from the data's sample shape, so
the text names only what a reader chooses (filters, window, sizes). The layers themselves are the
classes of symnn.nn: nothing here computes.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from symnn.errors import InputError
from symnn.wording import plural

if TYPE_CHECKING:
    from symnn.nn.layers import Layer, Shape

MAX_SPEC = 2000  # characters
MAX_LAYERS = 64
ACCEPTED = (
    "denseN, convFxK (with /S stride, pP padding: conv16x3/2p1), maxpoolK, avgpoolK (/S), flatten, "
    "or an activation (relu, elu(alpha=0.5), ... or an expression in x such as x*tanh(x))"
)
_DENSE = re.compile(r"dense\s*(\d+)", re.IGNORECASE)
_CONV = re.compile(r"conv\s*(\d+)\s*x\s*(\d+)(?:\s*x\s*(\d+))?(?:\s*/\s*(\d+))?(?:\s*p\s*(\d+))?", re.IGNORECASE)
_POOL = re.compile(r"(max|avg)pool\s*(\d+)(?:\s*/\s*(\d+))?", re.IGNORECASE)
_STRUCTURE = re.compile(r"(dense|conv|maxpool|avgpool|flatten)", re.IGNORECASE)  # a layer word, misspelt after


def tokens(spec: str) -> list[str]:
    """The comma-separated tokens of spec, a comma inside parentheses kept with its token."""
    if not isinstance(spec, str) or not spec.strip():
        raise InputError(f"--layers takes a comma-separated list of layers: {ACCEPTED}")
    if len(spec) > MAX_SPEC:
        raise InputError(f"--layers is {len(spec)} characters long; at most {MAX_SPEC} are accepted")
    out, depth, start = [], 0, 0
    for i, ch in enumerate(spec):
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            out.append(spec[start:i].strip())
            start = i + 1
    out.append(spec[start:].strip())
    if len(out) > MAX_LAYERS:
        raise InputError(f"--layers names {len(out)} layers; at most {MAX_LAYERS} are accepted")
    for i, token in enumerate(out, 1):
        if not token:
            raise InputError(f"--layers: token {i} is empty (two commas in a row, or one at an end)")
    return out


def is_images(spec: str) -> bool:
    """True when the stack holds a convolution, a pooling layer or flatten: it takes images (N, C, H, W)."""
    return any(_CONV.fullmatch(t) or _POOL.fullmatch(t) or t.lower() == "flatten" for t in tokens(spec))


def _layer(token: str, shape: Shape) -> Layer:
    """The layer a token names, for samples of shape (its sizes completed from shape)."""
    from symnn.nn import AvgPool2D, Conv2D, Dense, Flatten, MaxPool2D, activation_layer

    if m := _DENSE.fullmatch(token):
        if len(shape) != 1:
            raise InputError(f"it gets images {tuple(shape)}; put flatten before it")
        return Dense(shape[0], int(m.group(1)))
    if m := _CONV.fullmatch(token):
        if len(shape) != 3:
            raise InputError(f"a convolution takes images (C, H, W), but it gets rows of {plural(shape[0], 'value')}")
        f, k, k2, s, p = m.groups()
        k2 = k2 if k2 is not None else k
        stride, padding = int(s) if s is not None else 1, int(p) if p is not None else 0
        return Conv2D(shape[0], int(f), (int(k), int(k2)), stride=stride, padding=padding)
    if m := _POOL.fullmatch(token):
        kind = MaxPool2D if m.group(1).lower() == "max" else AvgPool2D
        return kind(int(m.group(2)), None if m.group(3) is None else int(m.group(3)))
    if token.lower() == "flatten":
        if len(shape) != 3:
            raise InputError("the values are one row already (flatten takes images (C, H, W))")
        return Flatten()
    if _STRUCTURE.match(token) and "(" not in token:
        raise InputError(f"not a layer; accepted: {ACCEPTED}")
    return activation_layer(token)


def build_layers(spec: str, sample_shape: Shape) -> list[Layer]:
    """The layers of spec for samples shaped sample_shape ((F,) rows or (C, H, W) images); one
    InputError naming the first token that is wrong, where it is and what is accepted."""
    from symnn.errors import SymnnError

    layers: list[Layer] = []
    shape = tuple(int(d) for d in sample_shape)
    for i, token in enumerate(tokens(spec), 1):
        try:
            layer = _layer(token, shape)
        except SymnnError as exc:
            text = str(exc)
            if text.startswith("unknown activation"):
                text = f"not a layer or an activation; accepted: {ACCEPTED}"
            elif m := re.search(r"unknown function '[^']*'", text):
                text = f"not a layer or an activation ({m[0]}); accepted: {ACCEPTED}"
            elif text.startswith(f"the activation {token!r}: "):
                text = text[len(f"the activation {token!r}: ") :]
            raise InputError(f"--layers: token {i} {token!r}: {text}") from None
        try:
            shape = tuple(int(d) for d in layer.out_shape(shape))
        except InputError as exc:
            raise InputError(f"--layers: token {i} {token!r} {exc}, but it gets {tuple(shape)}") from None
        layers.append(layer)
    return layers
