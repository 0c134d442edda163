"""recognize.find_activations: users' own spellings are found, and look-alikes are not."""

import numpy as np
import pytest

from tinygrad_edu import Tensor
from tinygrad_edu.recognize import find_activations

rng = np.random.default_rng(0)
Z = rng.standard_normal((6, 4)) * 2


def found(expression):
    x = Tensor(Z, dtype=np.float64, requires_grad=True)
    z = x * 1.5  # a pre-activation made inside the graph
    out = expression(z)
    return [(a.name, a.own, a.input is z, a.output is out) for a in find_activations(out.sum())]


@pytest.mark.parametrize(
    "expression, name",
    [
        (lambda z: 1.0 / (1.0 + (-z).exp()), "sigmoid"),
        (lambda z: 0.5 * (1 + (0.5 * z).tanh()), "sigmoid"),
        (lambda z: (-z).exp().__radd__(1) ** -1, "sigmoid"),
        (lambda z: z.maximum(0), "relu"),
        (lambda z: (z > 0) * z, "relu"),
        (lambda z: (z > 0) * z + (z < 0) * 0.01 * z, "leaky_relu"),
        (lambda z: z.tanh(), "tanh"),
        (lambda z: (z - z.max(axis=1, keepdims=True)).exp() / (z - z.max(axis=1, keepdims=True)).exp().sum(
            axis=1, keepdims=True), "softmax"),
        (lambda z: z.exp() / z.exp().sum(axis=1, keepdims=True), "softmax"),
    ],
)
def test_own_spellings_are_recognised_at_their_input_and_output(expression, name):
    assert found(expression) == [(name, True, True, True)]


@pytest.mark.parametrize(
    "expression",
    [lambda z: z * 2, lambda z: z**2, lambda z: z.exp(), lambda z: (z > 1) * z,
     lambda z: z.maximum(0.1), lambda z: z / z.sum(axis=1, keepdims=True), lambda z: z * 1.0],
)  # fmt: skip
def test_look_alikes_are_not_activations(expression):
    assert found(expression) == []


def test_our_composites_are_read_from_their_records_and_not_searched_inside():
    assert found(lambda z: z.sigmoid()) == [("sigmoid", False, True, True)]  # not also the tanh inside
    assert found(lambda z: z.leaky_relu(0.2).relu()) == [
        ("leaky_relu", False, True, False), ("relu", False, False, True)
    ]  # fmt: skip
