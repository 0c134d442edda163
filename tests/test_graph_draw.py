"""What a drawing shows, read back from its DOT text: nodes, labels, edges, colours, clusters, flags."""

import numpy as np
import pytest
from dot_parser import parse

import nn
from tinygrad_edu import Tensor, draw, to_dot
from tinygrad_edu.graph import group, scale


def neuron():
    x = Tensor([1.0, -2.0, 3.0], name="x")
    w = Tensor([0.5, -1.0, 0.25], requires_grad=True, name="w")
    b = Tensor(0.1, requires_grad=True, name="b")
    return x, w, b, (x @ w + b).tanh()


def test_neuron_nodes_show_operation_shape_dtype_values_and_gradients():
    x, w, b, y = neuron()
    y.backward()
    dot = parse(to_dot(y))
    assert len(dot.drawn_nodes) == 6
    tanh = dot.text(dot.only("tanh"))
    assert "scalar float32" in tanh and "data 0.9975" in tanh and "grad 1" in tanh
    assert "a @ b" in dot.text(dot.only("matmul"))
    w_text = dot.text(dot.only("w (3,)"))
    assert "data [0.5, -1, 0.25]" in w_text and "‖g‖ = " in w_text
    assert f"grad [{', '.join(f'{g:.4g}' for g in w.grad)}]" in w_text
    assert dot.nodes[dot.only("x (3,)")]["shape"] == "ellipse"  # a constant
    assert "no gradient" not in to_dot(y)


def test_edges_follow_data_flow_and_carry_shapes():
    _, _, _, y = neuron()
    y.backward()
    dot = parse(to_dot(y))
    matmul, add, tanh = dot.only("matmul"), dot.only("add"), dot.only("tanh")
    assert dot.edge_between(dot.only("w (3,)"), matmul)["label"] == "b: (3,)"
    assert dot.edge_between(dot.only("x (3,)"), matmul)["style"] == "dashed"  # no gradient into a constant
    assert dot.edge_between(matmul, add)["label"] == "scalar"
    assert dot.edge_between(add, tanh)
    assert len(dot.edges) == 5


def test_before_backward_the_drawing_says_gradients_are_not_computed():
    _, _, _, y = neuron()
    dot = parse(to_dot(y))
    assert "gradients not computed yet" in dot.graph["label"]
    for node in ("w (3,)", "matmul", "tanh"):
        attrs = dot.nodes[dot.only(node)]
        assert "no gradient yet" in dot.text(dot.only(node))
        assert "dashed" in attrs["style"] and attrs["fillcolor"] == scale.NO_GRADIENT_COLOUR
    assert "no gradient (yet)" in dot.text("legend") and "vanishing" not in dot.text("legend")


def test_a_tensor_without_graph_says_why():
    dot = parse(to_dot(Tensor([1.0, 2.0]) * 2))
    assert "does not require grad" in dot.graph["label"]


@pytest.mark.parametrize("magnitude", [1.5e-9, 3e-6, 2e-3, 0.5, 40.0, 1e6])
def test_fill_colour_follows_the_logarithmic_scale(magnitude):
    w = Tensor([1.0, 1.0, 1.0, 1.0, 1.0], requires_grad=True, name="w")
    loss = (w * (magnitude / np.sqrt(5))).sum()  # d loss / dw has norm `magnitude`
    loss.backward()
    dot = parse(to_dot(loss))
    expected = scale.PALETTE[scale.decade_index(magnitude)]
    assert dot.nodes[dot.only("w (5,)")]["fillcolor"] == expected
    edge = dot.edge_between(dot.only("w (5,)"), dot.only("mul"))
    assert edge["color"] == expected
    assert f"{magnitude:.1e}" in dot.text(dot.only("w (5,)"))


def test_scale_ends_are_clipped_and_each_decade_has_its_colour():
    assert scale.decade_index(1e-20) == 0 and scale.decade_index(0.0) == 0
    assert scale.decade_index(1e9) == len(scale.PALETTE) - 1
    assert [scale.decade_index(10.0**k) for k in range(-8, 2)] == list(range(10))
    assert scale.decade_index(0.0099) == scale.decade_index(0.001) == 5


def test_statistics_norm_and_mean_abs():
    g = np.array([3.0, -4.0], dtype=np.float32)
    assert scale.summarize(g).value == pytest.approx(5.0)
    assert scale.summarize(g, "mean_abs").value == pytest.approx(3.5)
    w = Tensor([3.0, -4.0], requires_grad=True, name="w")
    loss = (w * w).sum() * 0.5
    loss.backward()
    assert "mean|g| = 3.5e+00" in parse(to_dot(loss, statistic="mean_abs")).text("t0")
    with pytest.raises(ValueError, match="statistic"):
        draw(loss, statistic="max")


def test_zero_and_nonfinite_gradients_are_flagged():
    x = Tensor([0.0, 4.0], requires_grad=True, name="x")
    dead = Tensor([[-1.0, -2.0], [-3.0, -0.5]], requires_grad=True, name="pre")
    loss = x.sqrt().sum() + dead.relu().sum()  # sqrt'(0) is inf; relu of negatives passes 0
    loss.backward()
    dot = parse(to_dot(loss))
    x_node, pre_node = dot.only("x (2,)"), dot.only("pre (2, 2)")
    assert dot.nodes[x_node]["fillcolor"] == scale.NONFINITE_COLOUR
    assert "grad: 1 NaN/inf of 2" in dot.text(x_node)
    assert dot.nodes[pre_node]["fillcolor"] == scale.ZERO_COLOUR
    assert "grad = 0 everywhere" in dot.text(pre_node)
    legend = dot.text("legend")
    assert "NaN or inf" in legend and "exactly 0" in legend


def test_relu_calls_are_one_node_each_and_dead_units_are_counted():
    pre = Tensor([[1.0, -1.0, -2.0, 3.0], [2.0, -3.0, 1.0, 1.0]], requires_grad=True, name="pre")
    loss = pre.relu().sum() + pre.leaky_relu(0.1).sum() + (pre - 2.5).relu().sum()
    loss.backward()
    dot = parse(to_dot(loss))
    few, most = dot.only("ReLU: 1/4 units dead (25%)"), dot.only("ReLU: 3/4 units dead (75%)")
    assert dot.text(few).startswith("relu (2, 4)")  # unit 1 is negative for both examples
    assert dot.nodes[few].get("color") != scale.DEAD_UNITS_COLOUR  # a few dead units are normal
    assert dot.nodes[most]["color"] == scale.DEAD_UNITS_COLOUR  # most of the layer is dead: flagged
    assert "units dead" in dot.text("legend")
    leaky = dot.only("leaky ReLU")
    assert dot.text(leaky).startswith("leaky_relu(slope=0.1)")
    assert "leaky ReLU: 1/4 units on the slope side (25%)" in dot.text(leaky)
    assert not dot.find("constant") and not dot.find("where(")  # one node per call, its mask inside


def test_an_expanded_relu_is_a_where_node_and_keeps_its_dead_units():
    pre = Tensor([[1.0, -1.0], [2.0, -3.0]], requires_grad=True, name="pre")
    loss = (pre - 2.5).relu().sum()
    loss.backward()
    dot = parse(to_dot(loss, expand="relu"))
    node = dot.only("where(mask, ·, 0)")
    assert "where(mask, ·, 0)" in dot.text(node) and "ReLU: 2/2 units dead" in dot.text(node)
    assert dot.nodes[node]["color"] == scale.DEAD_UNITS_COLOUR
    assert not dot.find("relu")


def test_scalar_constants_are_folded_into_the_operation():
    x = Tensor([0.5, -0.5], requires_grad=True, name="x")
    loss = (1.0 - ((x * 0.5).tanh() * 0.5 + 0.5)).sum()
    loss.backward()
    dot = parse(to_dot(loss, expand=True))
    texts = [dot.text(n) for n in dot.drawn_nodes]
    assert sum("· × 0.5" in t for t in texts) == 2 and sum("· + 0.5" in t for t in texts) == 1
    assert any("1 − ·" in t for t in texts)
    assert len(dot.drawn_nodes) == 7  # x, mul, tanh, mul, add, sub, sum: no constant nodes
    with_sigmoid = (1.0 - x.sigmoid()).sum()
    with_sigmoid.backward()
    closed = parse(to_dot(with_sigmoid))
    assert sorted(closed.text(n).split()[0] for n in closed.drawn_nodes) == ["sigmoid", "sub", "sum", "x"]


def test_broadcast_edges_say_the_gradient_was_summed():
    bias = Tensor(np.zeros(10), requires_grad=True, name="bias")
    h = Tensor(np.ones((32, 10)), requires_grad=True, name="h")
    loss = (h + bias).sum()
    loss.backward()
    dot = parse(to_dot(loss))
    label = dot.edge_between(dot.only("bias (10,)"), dot.only("add"))["label"]
    assert label == "(10,) → (32, 10)\\nΣ grad over axis 0"
    assert "Σ" not in dot.edge_between(dot.only("h (32, 10)"), dot.only("add"))["label"]


def test_fan_out_shows_that_gradients_were_added():
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    y = x * 3.0
    loss = (y * y + y).sum()
    loss.backward()
    dot = parse(to_dot(loss))
    assert "grad = sum over 3 uses" in dot.text(dot.only("· × 3"))
    assert "sum over" not in dot.text(dot.only("x (2,)"))


def test_parameters_get_dotted_names_and_modules_get_clusters():
    model = nn.MLP([4, 3, 2])
    loss = nn.cross_entropy(model(Tensor(np.ones((5, 4)))), np.array([0, 1, 0, 1, 1]))
    loss.backward()
    dot = parse(to_dot(loss))
    weight = dot.only("layers.0.weight")
    assert dot.cluster_of[weight] == ["MLP", "layers (Sequential)", "layers.0 (Linear)"]
    assert dot.cluster_of[dot.only("ReLU:")] == ["MLP", "layers (Sequential)", "layers.1 (ReLU)"]
    assert dot.cluster_of[dot.only("cross_entropy")] == []  # the loss is outside the model
    assert set(dot.clusters.values()) >= {"layers.0 (Linear)", "layers.1 (ReLU)", "layers.2 (Linear)"}


def test_collapse_draws_each_module_as_one_node_with_its_parameters():
    model = nn.MLP([4, 3, 2])
    loss = nn.cross_entropy(model(Tensor(np.ones((5, 4)))), np.array([0, 1, 0, 1, 1]))
    loss.backward()
    full, collapsed = parse(to_dot(loss)), parse(to_dot(loss, collapse=True))
    assert len(collapsed.drawn_nodes) < len(full.drawn_nodes)
    linear = collapsed.only("layers.0 (Linear)")
    text = collapsed.text(linear)
    assert "1 operation inside" in text and "weight (3, 4): ‖g‖" in text and "(5, 3) float32" in text
    assert collapsed.nodes[linear]["shape"] == "box3d"
    assert collapsed.cluster_of[linear] == ["MLP", "layers (Sequential)"]
    chain = [collapsed.only(f"layers.{i} (") for i in range(3)]
    assert collapsed.edge_between(chain[0], chain[1])["label"] == "(5, 3)"
    assert collapsed.edge_between(chain[1], chain[2])
    whole = parse(to_dot(loss, depth=0))
    assert not whole.clusters and "layers.0.weight (3, 4)" in whole.text(whole.only("MLP"))
    assert len(parse(to_dot(loss, depth=1)).find("layers (Sequential)")) == 1


def test_group_clusters_an_expression_and_collapses_it():
    model = nn.MLP([4, 3, 2])
    logits = model(Tensor(np.ones((5, 4))))
    with group("cross-entropy"):
        loss = nn.cross_entropy(logits, np.array([0, 1, 0, 1, 1]))
    loss.backward()
    dot = parse(to_dot(loss))
    assert dot.cluster_of[dot.only("cross_entropy")] == ["cross-entropy"]
    collapsed = parse(to_dot(loss, collapse=True))
    assert len(collapsed.drawn_nodes) == 5  # input, 3 modules, the loss
    assert "data" in collapsed.text(collapsed.only("cross-entropy"))


def test_sigmoid_module_is_a_cluster_of_a_short_chain():
    layer, act = nn.Linear(3, 2), nn.Sigmoid()
    loss = act(layer(Tensor(np.ones((4, 3))))).sum()
    loss.backward()
    dot = parse(to_dot(loss))
    inside = [n for n in dot.drawn_nodes if dot.cluster_of[n] == ["Sigmoid"]]
    assert [dot.text(n).split()[0] for n in inside] == ["sigmoid"]
    assert dot.nodes[inside[0]]["peripheries"] == "2"  # a composite: double border
    expanded = parse(to_dot(loss, expand="sigmoid"))
    inside = [n for n in expanded.drawn_nodes if expanded.cluster_of[n] == ["Sigmoid"]]
    assert sorted(expanded.text(n).split()[0] for n in inside) == ["add", "div", "exp", "mul"]  # 1 / (exp(-x) + 1)


def test_a_sigmoid_with_inputs_in_the_far_negative_tail_draws_the_exp_minus_abs_form():
    x = Tensor(np.array([[-30.0, 2.0]]), dtype=np.float32, requires_grad=True)  # below float32's floor, -21.8
    loss = nn.Sigmoid()(x).sum()
    loss.backward()
    expanded = parse(to_dot(loss, expand="sigmoid"))
    inside = [n for n in expanded.drawn_nodes if expanded.cluster_of[n] == ["Sigmoid"]]
    assert sorted(expanded.text(n).split()[0] for n in inside) == ["add", "constant", "div", "exp", "mul", "where"]


def test_numbered_nodes_follow_the_backward_order():
    _, _, _, y = neuron()
    y.backward()
    dot = parse(to_dot(y, numbered=True))
    assert dot.text(dot.only("tanh")).startswith("#1 tanh")
    assert dot.text(dot.only("add")).startswith("#2 add")
    assert "#" not in dot.text(dot.only("x (3,)"))  # constants are not visited


def test_several_roots_share_one_drawing():
    w = Tensor([1.0, 2.0], requires_grad=True, name="w")
    a, b = (w * w).sum(), (w * 3.0).sum()
    a.backward()
    b.backward()
    dot = parse(to_dot([a, b]))
    assert len(dot.find("over all axes")) == 2 and len(dot.find("w (2,)")) == 1


def test_title_and_legend_options():
    _, _, _, y = neuron()
    y.backward()
    dot = parse(to_dot(y, title="one neuron", legend=False))
    assert "one neuron" in dot.graph["label"] and "legend" not in dot.nodes
    assert "rankdir" in to_dot(y, rankdir="LR") and parse(to_dot(y, rankdir="LR")).graph["rankdir"] == "LR"
    with pytest.raises(TypeError, match="Tensor"):
        draw("loss")  # type: ignore[arg-type]


def test_legend_explains_every_mark_in_use():
    model = nn.MLP([4, 3, 2])
    loss = nn.cross_entropy(model(Tensor(np.ones((5, 4)))), np.array([0, 1, 0, 1, 1]))
    loss.backward()
    legend = parse(to_dot(loss, numbered=True)).text("legend")
    for meaning in ("smaller", "larger", "1e-8", "1e1", "broadcast", "order in which", "double box: a composite",
                    "box: leaf"):  # fmt: skip
        assert meaning in legend
    for unused in ("NaN", "exactly 0", "3-D box", "dashed border", "sum over n uses", "vanishing", "exploding"):
        assert unused not in legend


def test_a_small_graph_legend_shows_only_its_own_marks():
    _, _, _, y = neuron()
    y.backward()
    legend = parse(to_dot(y)).text("legend")
    assert "rounded box: operation" in legend and "box: leaf with grad" in legend
    for unused in ("NaN", "exactly 0", "3-D box", "double box", "dead", "magenta"):
        assert unused not in legend


def test_a_model_called_inside_a_group_keeps_its_names_and_parameters():
    model = nn.MLP([4, 3, 2])
    with group("step"):
        loss = nn.cross_entropy(model(Tensor(np.ones((5, 4)))), np.array([0, 1, 0, 1, 1]))
    loss.backward()
    dot = parse(to_dot(loss))
    weight = dot.only("layers.0.weight")
    assert dot.cluster_of[weight] == ["step", "MLP", "layers (Sequential)", "layers.0 (Linear)"]
    collapsed = parse(to_dot(loss, collapse=True))
    assert "weight (3, 4)" in collapsed.text(collapsed.only("layers.0 (Linear)"))
    assert not collapsed.find("layers.0.weight")


def test_a_one_hot_product_is_not_mistaken_for_a_relu():
    logits = Tensor([[2.0, -1.0, 0.5], [0.1, 0.2, -3.0]], requires_grad=True)
    one_hot = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype=np.float32)
    loss = -(logits.log_softmax(axis=1) * one_hot).sum()
    loss.backward()
    dot = parse(to_dot(loss))
    assert not dot.find("ReLU") and dot.find("constant")  # the target is an input, drawn as such


def test_summaries_survive_float32_overflow_and_underflow():
    huge = np.full(4, 1e30, dtype=np.float32)  # its squares overflow float32
    tiny = np.full(4, 1e-30, dtype=np.float32)  # its squares underflow to 0
    assert scale.summarize(huge).value == pytest.approx(2e30, rel=1e-6)
    assert scale.summarize(tiny).value == pytest.approx(2e-30, rel=1e-6) and not scale.summarize(tiny).all_zero
    assert scale.summarize(np.zeros(3, np.float32)).all_zero
    flagged = scale.summarize(np.array([np.nan, np.inf, 3.0, 4.0], np.float32))
    assert flagged.nonfinite == 2 and flagged.value == pytest.approx(5.0) and not flagged.all_zero
    assert scale.decade_index(float("inf")) == len(scale.PALETTE) - 1
