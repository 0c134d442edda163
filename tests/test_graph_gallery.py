"""The example graphs of examples/graph_gallery.py with the real nn package, and examples/draw_graphs.py."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from dot_parser import parse

from tinygrad_edu import to_dot
from tinygrad_edu.graph import scale

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))  # the gallery and the drawing script live beside the examples
from draw_graphs import main  # noqa: E402
from graph_gallery import EXAMPLES  # noqa: E402


def drawn(name, **options):
    roots = EXAMPLES[name].build()
    for root in roots:
        root.backward()
    return parse(to_dot(roots, **{**EXAMPLES[name].options, **options}))


def test_mnist_mlp_collapses_to_one_node_per_module():
    collapsed, full = drawn("mnist"), drawn("mnist", collapse=False)
    names = ["layers.0 (Linear)", "layers.1 (ReLU)", "layers.2 (Linear)", "layers.3 (ReLU)", "layers.4 (Linear)"]
    assert [collapsed.text(collapsed.only(n)).split(" (")[0] for n in names] == [n.split(" (")[0] for n in names]
    assert len(collapsed.drawn_nodes) == 7  # images, five modules, the loss
    assert len(full.drawn_nodes) == 13  # images, three weights, biases and linear ops, two relus, the loss
    assert "weight (128, 784)" in collapsed.text(collapsed.only("layers.0 (Linear)"))
    assert "units dead" in collapsed.text(collapsed.only("layers.1 (ReLU)"))
    assert full.cluster_of[full.only("layers.0.weight")] == ["MLP", "layers (Sequential)", "layers.0 (Linear)"]


def test_sigmoid_gradients_vanish_where_relu_gradients_do_not():
    dot = drawn("vanishing")

    def first_layer_colour(network):
        (node,) = [n for n in dot.find("layers.0 (Linear)") if dot.cluster_of[n][0] == network]
        return scale.PALETTE.index(dot.nodes[node]["fillcolor"])

    assert first_layer_colour("ReLU network") - first_layer_colour("sigmoid network") >= 3  # 3 decades apart


def test_regression_shows_clusters_broadcast_and_leaky_relu():
    dot = drawn("regression")
    assert "leaky ReLU: " in dot.text(dot.only("leaky_relu(slope="))
    (bias_edge,) = [attrs for source, _, attrs in dot.edges if source == dot.only("layers.0.bias")]
    assert bias_edge["label"] == "c: (64,) → (201, 64)\\nΣ grad over axis 0"  # c in a @ bᵀ + c


def test_command_line_writes_images_dot_and_frames(tmp_path, capsys):
    assert main(["neuron", "--out", str(tmp_path / "n.svg")]) == 0
    assert "<svg" in (tmp_path / "n.svg").read_text(encoding="utf-8")
    assert main(["mnist", "--no-collapse", "--expand", "all", "--out", str(tmp_path / "m.dot")]) == 0
    assert "layers.0.weight" in (tmp_path / "m.dot").read_text(encoding="utf-8")
    assert main(["neuron", "--before-backward", "--out", str(tmp_path / "b.dot")]) == 0
    assert "not computed yet" in (tmp_path / "b.dot").read_text(encoding="utf-8")
    assert main(["neuron", "--frames", str(tmp_path / "frames")]) == 0
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == ["step_01.svg", "step_02.svg", "step_03.svg"]
    assert main(["--list"]) == 0 and "vanishing" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["neuron", "--out", str(tmp_path / "n.txt")])


def test_example_script_renders_every_picture_of_the_docs(tmp_path):
    script = ROOT / "examples" / "draw_graphs.py"
    path = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(ROOT)) if p)
    env = {**os.environ, "PYTHONPATH": path}
    subprocess.run([sys.executable, str(script), "--out-dir", str(tmp_path)], check=True, env=env, capture_output=True)
    expected = {"neuron", "neuron_before_backward", "regression", "mnist", "vanishing"}
    expected |= {f"neuron_step_{k}" for k in (1, 2, 3)}
    assert {p.stem for p in tmp_path.glob("*.svg")} == expected
    for name in expected:
        assert (ROOT / "docs" / "images" / f"{name}.svg").exists(), f"docs/images/{name}.svg is not committed"


def test_the_code_blocks_of_the_docs_page_run(tmp_path, monkeypatch):
    text = (ROOT / "docs" / "graphs.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert len(blocks) == 3
    monkeypatch.chdir(tmp_path)  # the blocks write neuron.svg and step_*.svg
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/graphs.md", "exec"), namespace)
    assert (tmp_path / "neuron.svg").exists() and (tmp_path / "step_3.svg").exists()
    assert "cross_entropy" in namespace["draw"](namespace["loss"], collapse=True).source
