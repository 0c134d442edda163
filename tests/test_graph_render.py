"""Rendering with Graphviz (CI installs `dot`: these tests must run there, never skip), the error
when `dot` is missing, the node limit, and the docstring examples of the graph package."""

import doctest
from pathlib import Path

import graphviz
import numpy as np
import pytest
from dot_parser import parse

import nn
import tinygrad_edu.graph
from tinygrad_edu import Tensor, draw, to_dot
from tinygrad_edu.graph import GraphvizNotFound, frames, groups, render


def small_loss():
    w = Tensor([0.5, -1.0, 0.25], requires_grad=True, name="w")
    loss = (Tensor([1.0, -2.0, 3.0]) @ w + 0.1).tanh()
    loss.backward()
    return loss


def test_draw_returns_a_digraph_whose_source_is_to_dot():
    loss = small_loss()
    drawing = draw(loss)
    assert isinstance(drawing, graphviz.Digraph)
    assert drawing.source == to_dot(loss)
    assert isinstance(to_dot(loss), str)


def test_render_to_svg_with_graphviz(tmp_path):
    path = draw(small_loss(), title="neuron").render(tmp_path / "neuron", format="svg")
    svg = Path(path).read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "tanh" in svg and "neuron" in svg and "Legend" in svg


def test_jupyter_display_renders_svg():
    bundle = draw(small_loss())._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


def test_missing_dot_says_how_to_install_it_and_that_dot_source_still_works(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` here
    drawing = draw(small_loss())
    for attempt in (lambda: drawing.render(tmp_path / "g", format="png"), lambda: drawing.pipe(format="svg")):
        with pytest.raises(GraphvizNotFound) as error:
            attempt()
        assert isinstance(error.value, graphviz.ExecutableNotFound)  # graphviz.s own error
        message = str(error.value)
        assert "apt-get install graphviz" in message and "brew install graphviz" in message
        assert "to_dot" in message and ".save(" in message
    drawing.save(tmp_path / "graph.dot")  # the DOT source needs no Graphviz
    assert "tanh" in (tmp_path / "graph.dot").read_text(encoding="utf-8")


def test_a_large_graph_is_refused_with_a_message_pointing_to_collapse():
    model = nn.MLP([4, 3, 3, 3, 3, 3, 2])
    loss = nn.cross_entropy(model(Tensor(np.ones((5, 4)))), np.zeros(5, dtype=int))
    loss.backward()
    with pytest.raises(ValueError, match=r"more than max_nodes=15: .*hairball.* collapse=True"):
        draw(loss, max_nodes=15)
    assert len(parse(to_dot(loss, collapse=True, max_nodes=15)).drawn_nodes) <= 15
    with pytest.raises(ValueError, match=r"smaller depth.*depth=0"):
        draw(loss, collapse=True, max_nodes=5)
    assert len(parse(to_dot(loss, max_nodes=1000)).drawn_nodes) > 20


def test_a_large_graph_without_modules_suggests_a_smaller_part():
    x = Tensor([1.0], requires_grad=True)
    for _ in range(200):
        x = (x * 1.01).tanh()
    with pytest.raises(ValueError, match="No nn.Module"):
        draw(x)


def test_a_long_chain_is_walked_without_recursion():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x
    for _ in range(2000):
        y = y * 1.0001
    y.sum().backward()
    assert len(parse(to_dot(y, max_nodes=5000)).drawn_nodes) == 2001


@pytest.mark.parametrize("module", [render, frames, groups, tinygrad_edu.graph])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, extraglobs={"to_dot": to_dot})
    assert result.failed == 0
