"""One drawing per backward step: the node being processed, local derivatives, accumulated gradients."""

import re

import numpy as np
import pytest
from dot_parser import parse

from tinygrad_edu import Tensor
from tinygrad_edu.graph import backward_frames, scale


def neuron():
    x = Tensor([1.0, -2.0, 3.0], name="x")
    w = Tensor([0.5, -1.0, 0.25], requires_grad=True, name="w")
    b = Tensor(0.1, requires_grad=True, name="b")
    h = x @ w + b
    return w, b, h.tanh() * h  # h is used twice: its gradient arrives in two parts


def test_one_frame_per_operation_and_the_same_gradients_as_backward():
    w, b, loss = neuron()
    frames = backward_frames(loss)
    assert len(frames) == 4  # mul, tanh, add, matmul (leaves are not steps)
    w2, b2, loss2 = neuron()
    loss2.backward()
    np.testing.assert_allclose(w.grad, w2.grad, rtol=1e-6)
    np.testing.assert_allclose(b.grad, b2.grad, rtol=1e-6)
    assert parse(frames[-1].source).text(parse(frames[-1].source).only("w (3,)")).count("grad [") == 1


def test_each_frame_marks_the_current_node_and_its_local_derivatives():
    _, _, loss = neuron()
    frames = [parse(f.source) for f in backward_frames(loss)]
    titles = [f.graph["label"] for f in frames]
    assert "backward step 1 of 4: mul" in titles[0] and "backward step 2 of 4: tanh" in titles[1]
    tanh_frame = frames[1]
    tanh = tanh_frame.only("tanh")
    assert tanh_frame.nodes[tanh]["color"] == scale.CURRENT_STEP_COLOUR
    assert "▶ step 2" in tanh_frame.text(tanh)
    edge = tanh_frame.edge_between(tanh_frame.only("add"), tanh)["label"]
    local = float(re.search(r"local derivative ([\d.e-]+)", edge).group(1))
    assert local == pytest.approx(1 - np.tanh(3.35) ** 2, rel=1e-3) and "sends" in edge
    assert tanh_frame.nodes[tanh_frame.only("#1 mul")].get("color") != scale.CURRENT_STEP_COLOUR


def test_fan_out_gradients_accumulate_frame_by_frame():
    _, _, loss = neuron()
    frames = [parse(f.source) for f in backward_frames(loss)]
    first = frames[0]
    assert "so far: 1 of 2 uses" in first.text(first.only("add"))
    assert "no gradient yet" in first.text(first.only("w (3,)"))
    assert "so far" not in frames[1].text(frames[1].only("add"))


def test_frames_refuse_a_loss_that_was_already_backpropagated():
    _, _, loss = neuron()
    loss.backward()
    with pytest.raises(ValueError, match="instead of loss.backward"):
        backward_frames(loss)
    with pytest.raises(ValueError, match="single element"):
        backward_frames(Tensor([1.0, 2.0], requires_grad=True) * 2)


def test_a_partial_gradient_stays_marked_until_its_last_use_is_processed():
    x = Tensor([0.5, -0.5], requires_grad=True, name="x")
    y = x * 2.0
    loss = (y.tanh().exp() + y).sum()  # y's two uses are processed in different steps
    frames = [parse(f.source) for f in backward_frames(loss)]
    marked = ["so far: 1 of 2 uses" in f.text(f.only("· × 2")) for f in frames]
    first = marked.index(True)
    assert all(marked[first : marked.index(False, first)]) and marked.index(False, first) - first >= 2
