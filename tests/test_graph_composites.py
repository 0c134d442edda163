"""Drawings show each composite call as one node, open it on request, and title movements as the user wrote them."""

import numpy as np
import pytest
from dot_parser import parse

import nn
from tinygrad_edu import Tensor, composite, to_dot


def titles(dot):
    return [dot.text(n).split(" (")[0].split(" scalar")[0] for n in dot.drawn_nodes]


def batch(shape=(5, 3), seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True, name="x")


def test_each_composite_is_one_node_titled_with_its_call():
    x = batch()
    loss = nn.cross_entropy(x.sigmoid().softmax(axis=1), np.array([0, 1, 2, 0, 1]))
    loss.backward()
    dot = parse(to_dot(loss))
    assert sorted(titles(dot)) == sorted(["x", "sigmoid", "softmax(axis=1)", "cross_entropy"])
    assert "operations inside" in dot.text(dot.only("softmax(axis=1)"))


def test_expand_opens_all_one_or_some_composites():
    x = batch()
    loss = nn.cross_entropy(x.sigmoid(), np.array([0, 1, 2, 0, 1]))
    loss.backward()
    everything = titles(parse(to_dot(loss, expand=True)))
    # sigmoid is made of mul, exp, add, where and div (no log); cross_entropy's log_softmax of exp, sum and log
    assert "add · + 1" in everything and "log" in everything and "sigmoid" not in everything
    only_sigmoid = titles(parse(to_dot(loss, expand="sigmoid")))
    assert "add · + 1" in only_sigmoid and "cross_entropy" in only_sigmoid and "log" not in only_sigmoid
    loss_open = titles(parse(to_dot(loss, expand=["cross_entropy"])))
    assert "log_softmax(axis=1)" in loss_open and "·[indices" in loss_open  # the nested one stays closed
    assert "sigmoid" in loss_open
    both = titles(parse(to_dot(loss, expand=["cross_entropy", "log_softmax"])))
    assert "exp" in both and "log_softmax(axis=1)" not in both


def test_expand_with_a_name_the_graph_does_not_use_is_an_error():
    loss = batch().sigmoid().sum()
    with pytest.raises(ValueError, match=r"sigmod.*its composites are: sigmoid"):
        to_dot(loss, expand="sigmod")
    with pytest.raises(TypeError, match="expand"):
        to_dot(loss, expand=[1])


def test_movement_operations_are_titled_as_the_user_wrote_them():
    w = Tensor(np.ones((2, 3)), requires_grad=True, name="w")
    cube = Tensor(np.ones((2, 3, 4)), requires_grad=True, name="cube")
    out = (w.T.reshape(6) * 2.0).sum() + w[:, 1].sum() + cube.transpose(1, 0, 2).sum()
    out.backward()
    dot = parse(to_dot(out))
    assert {".T", "reshape", "·[:, 1]", "transpose(1, 0, 2)"} <= set(titles(dot))
    assert not dot.find("permute")


def test_a_composite_that_calls_a_model_keeps_the_model_s_clusters():
    model = nn.MLP([3, 4, 2])

    @composite
    def loss_of(net, inputs, labels):
        return nn.cross_entropy(net(inputs), labels)

    loss = loss_of(model, Tensor(np.ones((5, 3))), np.array([0, 1, 0, 1, 1]))
    loss.backward()
    dot = parse(to_dot(loss))
    node = dot.only("loss_of")
    assert dot.cluster_of[node] == [] and "cross_entropy" not in titles(dot)  # the nested loss is inside it
    assert dot.cluster_of[dot.only("layers.0.weight")] == ["MLP", "layers (Sequential)", "layers.0 (Linear)"]
    assert dot.cluster_of[dot.only("units dead")] == ["MLP", "layers (Sequential)", "layers.1 (ReLU)"]
    collapsed = parse(to_dot(loss, collapse=True))
    assert len(collapsed.drawn_nodes) == 5  # input, Linear, ReLU, Linear, the loss


def test_a_composite_inside_a_module_sits_in_the_module_s_cluster():
    layer = nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2))
    out = layer(Tensor(np.ones((2, 3)))).sum()
    out.backward()
    dot = parse(to_dot(out))
    assert dot.cluster_of[dot.only("leaky_relu(slope=0.2)")] == ["Sequential", "1 (LeakyReLU)"]


def test_drawing_something_that_is_not_a_tensor_says_what_it_got():
    with pytest.raises(TypeError, match=r"expected a Tensor.*got float"):
        to_dot(3.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"got a list holding int"):
        to_dot([Tensor([1.0]), 2])  # type: ignore[list-item]
