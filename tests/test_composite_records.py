"""Composite calls are recorded on the tensors they create: name, inputs, options, nesting."""

from __future__ import annotations

import gc

import numpy as np

import nn
from tinygrad_edu import Tensor, composite
from tinygrad_edu.autograd import topological_order


def x_tensor(shape=(3, 4), seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def test_every_node_of_a_sigmoid_remembers_the_call():
    x = x_tensor()
    y = x.sigmoid()
    inside = [t for t in topological_order(y) if t is not x]
    assert inside and all(t.composite is y.composite for t in inside)
    call = y.composite
    assert call.name == "sigmoid" and call.inputs == (x,) and call.output_sequence == y._sequence
    assert x.composite is None


def test_options_are_recorded_and_shown_in_the_label():
    x = x_tensor()
    assert x.softmax(axis=1).composite.label() == "softmax(axis=1)"
    assert x.leaky_relu(0.2).composite.options == {"slope": 0.2}
    assert x.relu().composite.label() == "relu"


def test_nested_composites_link_to_the_outer_call():
    logits = x_tensor((5, 3))
    loss = nn.cross_entropy(logits, np.array([0, 1, 2, 0, 1]))
    assert loss.composite.name == "cross_entropy"
    inner = {t.composite.name for t in topological_order(loss) if t.composite is not None}
    assert {"cross_entropy", "log_softmax"} <= inner
    log_softmax_call = next(t.composite for t in topological_order(loss) if t.composite.name == "log_softmax")
    assert log_softmax_call.parent is loss.composite


def test_a_user_function_is_recorded_by_the_decorator_with_the_same_numbers():
    @composite
    def swish(z):
        return z * z.sigmoid()

    x = x_tensor()
    y = swish(x)
    assert y.composite.name == "swish"
    y.sum().backward()
    expected_grad = x.grad.copy()
    x.grad = None
    (x * x.sigmoid()).sum().backward()
    np.testing.assert_array_equal(x.grad, expected_grad)
    np.testing.assert_array_equal(y.data, (x * x.sigmoid()).data)


def test_named_decorator_and_records_leave_no_reference_cycle():
    @composite(name="my_loss")
    def loss_fn(pred, target, scale=1.0):
        return ((pred - target) ** 2).mean() * scale

    gc.collect()
    gc.disable()
    try:
        for _ in range(20):
            out = loss_fn(x_tensor(), np.zeros((3, 4)), scale=2.0)
            assert out.composite.name == "my_loss" and out.composite.options["scale"] == 2.0
            out.backward()
            del out
        assert gc.collect() == 0  # everything was freed by reference counting
    finally:
        gc.enable()
