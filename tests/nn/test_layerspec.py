"""symnn.nn.layerspec: a layer stack written as text, each token one layer of symnn.nn with its
sizes completed from the data's sample shape; the first wrong token named in one line."""

from __future__ import annotations

import pytest

from symnn.errors import InputError
from symnn.nn import Activation, AvgPool2D, Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, Sigmoid, Tanh
from symnn.nn.layerspec import ACCEPTED, build_layers, is_images, tokens


def test_the_lecture_cnn_as_text():
    layers = build_layers("conv8x3,relu,maxpool2,flatten,dense10", (1, 8, 8))
    assert [type(layer) for layer in layers] == [Conv2D, ReLU, MaxPool2D, Flatten, Dense]
    conv, dense = layers[0], layers[-1]
    assert (conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding) == (1, 8, (3, 3), 1, 0)
    assert (dense.n_in, dense.n_out) == (8 * 3 * 3, 10)  # 8 maps of (8-3+1)/2 = 3 x 3


def test_stride_padding_rectangles_pools_and_activations():
    layers = build_layers("Conv16x3x2/2p1, elu(alpha=0.5), avgpool2/1, flatten, dense30, x*tanh(x), dense4", (3, 9, 9))
    conv, act, pool, _, dense, own, last = layers
    assert (conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding) == (3, 16, (3, 2), 2, 1)
    assert isinstance(act, Activation) and act.source == "elu(alpha=0.5)"
    assert isinstance(pool, AvgPool2D) and (pool.size, pool.stride) == ((2, 2), 1)
    # conv: (9 + 2 - 3)//2 + 1 = 5 rows, (9 + 2 - 2)//2 + 1 = 5 columns; pool 2, stride 1: 4 x 4
    assert (dense.n_in, dense.n_out, last.n_in, last.n_out) == (16 * 4 * 4, 30, 30, 4)
    assert own.source == "x*tanh(x)"
    assert Sequential(layers, loss="softmax-cross-entropy").output_shape((3, 9, 9)) == (4,)


def test_an_mlp_as_text():
    layers = build_layers("dense30,tanh,dense10,sigmoid", (64,))
    assert [type(layer) for layer in layers] == [Dense, Tanh, Dense, Sigmoid]
    assert [(d.n_in, d.n_out) for d in layers[::2]] == [(64, 30), (30, 10)]


def test_a_comma_inside_parentheses_stays_with_its_token():
    assert tokens("dense3, max(x, 0.1*x) ,dense2") == ["dense3", "max(x, 0.1*x)", "dense2"]
    assert isinstance(build_layers("dense3,max(x, 0.1*x)", (2,))[1], Activation)


@pytest.mark.parametrize(
    ("spec", "shape", "images"),
    [
        ("conv8x3,relu", (1, 8, 8), True),
        ("maxpool2,flatten", (1, 8, 8), True),
        ("flatten,dense3", (1, 4, 4), True),
        ("dense3,relu,dense2", (4,), False),
    ],
)
def test_images_when_a_token_takes_images(spec, shape, images):
    assert is_images(spec) is images
    build_layers(spec, shape)


@pytest.mark.parametrize(
    ("spec", "shape", "message"),
    [
        ("conv8x3,relu,dense10", (1, 8, 8), "token 3 'dense10': it gets images (8, 6, 6); put flatten before it"),
        ("dense10", (1, 8, 8), "token 1 'dense10': it gets images (1, 8, 8); put flatten before it"),
        ("conv8x3", (64,), "token 1 'conv8x3': a convolution takes images (C, H, W), but it gets rows of 64 values"),
        ("conv8x9", (1, 8, 8), "token 1 'conv8x9' needs images of at least 9 × 9 pixels, but it gets (1, 8, 8)"),
        (
            "maxpool4,maxpool4",
            (1, 8, 8),
            "token 2 'maxpool4' needs maps of at least 4 × 4 pixels, but it gets (1, 2, 2)",
        ),
        ("flatten", (4,), "token 1 'flatten': the values are one row already"),
        ("relu,,dense3", (4,), "token 2 is empty"),
        ("dense3,", (4,), "token 2 is empty"),
        ("maxpol2", (1, 8, 8), f"token 1 'maxpol2': not a layer or an activation; accepted: {ACCEPTED}"),
        ("conv8", (1, 8, 8), f"token 1 'conv8': not a layer; accepted: {ACCEPTED}"),
        ("dense", (4,), "token 1 'dense': not a layer; accepted"),
        ("dense3,foo(x)", (4,), "token 2 'foo(x)': not a layer or an activation"),
        ("dense3,a*x", (4,), "token 2 'a*x': an activation is a function of one variable"),
        ("dense3,x**", (4,), "token 2 'x**': cannot read the activation"),
        ("conv0x3", (1, 8, 8), "token 1 'conv0x3': Conv2D out_channels must be a positive integer (got 0)"),
        ("dense0", (4,), "token 1 'dense0': Dense n_out"),
        ("conv8x3/0", (1, 8, 8), "token 1 'conv8x3/0': Conv2D stride must be a positive integer (got 0)"),
        ("dense3,__import__('os')", (4,), "token 2"),
    ],
)
def test_the_first_wrong_token_in_one_line(spec, shape, message):
    with pytest.raises(InputError) as err:
        build_layers(spec, shape)
    text = str(err.value)
    assert text.startswith("--layers: ") and message in text and "\n" not in text


def test_length_and_count_are_bounded():
    with pytest.raises(InputError, match="at most 64"):
        tokens(",".join(["relu"] * 65))
    with pytest.raises(InputError, match="2408 characters long; at most 2000"):
        tokens("dense3," + "x+" * 1200 + "x")
    with pytest.raises(InputError, match="comma-separated list"):
        tokens("  ")
    with pytest.raises(InputError, match="weights"):  # memory: refused before any array exists
        build_layers("dense100000,relu,dense100000", (100000,))
