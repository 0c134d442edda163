"""Layers: forward values against NumPy, gradients against finite differences, init, dropout statistics."""

import numpy as np
import pytest
from nn_gradcheck import assert_param_gradients_match, float64  # noqa: F401  (a fixture, used by name)

import nn
from tinygrad_edu import PRIMITIVES, Tensor, manual_seed

rng = np.random.default_rng(0)


def away_from_zero(shape, margin=0.1):
    """Random inputs with |x| >= margin, so finite differences never straddle a kink at 0."""
    values = rng.standard_normal(shape)
    return np.where(values >= 0, values + margin, values - margin)


# ---------------------------------------------------------------- Linear


@pytest.mark.usefixtures("float64")
def test_linear_shapes_and_forward():
    layer = nn.Linear(4, 3)
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)
    x = rng.standard_normal((5, 4))
    np.testing.assert_allclose(layer(Tensor(x)).data, x @ layer.weight.data.T + layer.bias.data)
    assert nn.Linear(4, 3, bias=False).bias is None
    assert [n for n, _ in nn.Linear(4, 3, bias=False).named_parameters()] == ["weight"]


@pytest.mark.usefixtures("float64")
def test_linear_gradients():
    layer = nn.Linear(4, 3)
    x = Tensor(rng.standard_normal((5, 4)), requires_grad=True)
    assert_param_gradients_match(lambda: layer(x), [x, layer.weight, layer.bias])


@pytest.mark.usefixtures("float64")
def test_linear_accepts_a_single_sample_and_batches_of_batches():
    layer = nn.Linear(4, 3)
    assert layer(Tensor(np.ones(4))).shape == (3,)
    assert layer(Tensor(np.ones((2, 5, 4)))).shape == (2, 5, 3)


def test_linear_default_dtype_is_float32():
    layer = nn.Linear(2, 2)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32


def test_linear_wrong_input_width_names_the_layer_and_the_fix():
    with pytest.raises(ValueError, match=r"Linear\(in_features=784.*\(8, 28, 28\).*flatten"):
        nn.Linear(784, 10)(Tensor(np.zeros((8, 28, 28))))
    with pytest.raises(ValueError, match=r"shape \(5,\).*must be a column: x.reshape\(-1, 1\)"):
        nn.Linear(1, 10)(Tensor(np.zeros(5)))


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_linear_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="positive integer"):
        nn.Linear(bad, 3)


def test_linear_init_bounds_and_variance():
    manual_seed(0)
    fan_in, fan_out = 400, 300
    he = nn.Linear(fan_in, fan_out, init="he")
    xavier = nn.Linear(fan_in, fan_out, init="xavier")
    assert np.abs(he.weight.data).max() <= np.sqrt(6 / fan_in)
    assert np.abs(xavier.weight.data).max() <= np.sqrt(6 / (fan_in + fan_out))
    np.testing.assert_allclose(he.weight.data.var(), 2 / fan_in, rtol=0.02)
    np.testing.assert_allclose(xavier.weight.data.var(), 2 / (fan_in + fan_out), rtol=0.02)
    assert np.abs(he.bias.data).max() <= 1 / np.sqrt(fan_in)
    with pytest.raises(ValueError, match='"xavier" or "he"'):
        nn.Linear(2, 2, init="glorot")


def test_init_is_reproducible_with_manual_seed():
    manual_seed(42)
    first = nn.MLP([3, 4, 2]).state_dict()
    manual_seed(42)
    second = nn.MLP([3, 4, 2]).state_dict()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])


# ---------------------------------------------------------------- MLP


def test_mlp_parameter_count_and_names():
    mlp = nn.MLP([784, 100, 10])
    assert sum(p.size for p in mlp.parameters()) == 79_510
    assert [name for name, _ in mlp.named_parameters()] == [
        "layers.0.weight",
        "layers.0.bias",
        "layers.2.weight",
        "layers.2.bias",
    ]


def test_mlp_layer_structure_with_dropout_and_output_activation():
    mlp = nn.MLP([2, 4, 4, 1], activation="sigmoid", output_activation="sigmoid", dropout=0.2)
    kinds = [type(m).__name__ for m in mlp.layers]
    assert kinds == ["Linear", "Sigmoid", "Dropout", "Linear", "Sigmoid", "Dropout", "Linear", "Sigmoid"]
    assert mlp.layers[1] is not mlp.layers[4]  # a fresh activation module per layer


@pytest.mark.parametrize(
    ("activation", "expected"),
    [
        ("relu", "he"),
        ("leaky_relu", "he"),
        (nn.LeakyReLU(0.2), "he"),
        ("sigmoid", "xavier"),
        ("tanh", "xavier"),
    ],
)
def test_mlp_init_follows_the_activation(activation, expected):
    mlp = nn.MLP([3, 4, 4, 2], activation=activation)
    linears = [m for m in mlp.layers if isinstance(m, nn.Linear)]
    assert [m.init for m in linears] == [expected, expected, "xavier"]  # linear output: Xavier
    assert [m.init for m in nn.MLP([3, 4, 2], init="he").layers if isinstance(m, nn.Linear)] == ["he", "he"]


@pytest.mark.usefixtures("float64")
def test_mlp_accepts_any_one_line_activation_function():
    shifted = nn.MLP([2, 3, 1], activation=lambda x: (x - 0.5).relu())
    assert isinstance(shifted.layers[1], nn.Activation)
    x = Tensor(away_from_zero((4, 2)))
    hidden = (x.data @ shifted.layers[0].weight.data.T + shifted.layers[0].bias.data - 0.5).clip(0)
    expected = hidden @ shifted.layers[2].weight.data.T + shifted.layers[2].bias.data
    np.testing.assert_allclose(shifted(x).data, expected)


@pytest.mark.usefixtures("float64")
def test_mlp_gradients():
    mlp = nn.MLP([3, 5, 4, 2], activation="tanh")
    x = Tensor(rng.standard_normal((6, 3)))
    assert_param_gradients_match(lambda: mlp(x), list(mlp.parameters()))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sizes": [3]}, "at least two"),
        ({"sizes": [3, 2], "dropout": 1.0}, "dropout"),
        ({"sizes": [3, 4, 2], "activation": "swish"}, "unknown activation 'swish'; use one of relu"),
    ],
)
def test_mlp_argument_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nn.MLP(**kwargs)


# ---------------------------------------------------------------- activations

ACTIVATIONS = [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.Identity(), lambda x: x),
    (nn.Activation(lambda x: x.abs(), "abs"), np.abs),
    (nn.Activation("sin"), np.sin),
    (nn.Activation(lambda x: x.relu() - (x - 1).relu()), lambda x: np.clip(x, 0, 1)),
]


@pytest.mark.parametrize(("module", "reference"), ACTIVATIONS, ids=lambda v: repr(v))
@pytest.mark.usefixtures("float64")
def test_activation_forward_and_gradients(module, reference):
    x = Tensor(away_from_zero((4, 5)) * 2, requires_grad=True)
    np.testing.assert_allclose(module(x).data, reference(x.data), rtol=1e-12)
    if isinstance(module, nn.Activation) and module.fn_name == "<lambda>":
        x.data[np.abs(x.data - 1) < 0.1] += 0.3  # the clip has a second kink at 1
    assert_param_gradients_match(lambda: module(x), [x])


def test_activation_must_be_elementwise():
    with pytest.raises(ValueError, match=r"activation <lambda>: must return a Tensor of its input's shape"):
        nn.Activation(lambda x: x.sum())(Tensor(np.ones((2, 3))))
    with pytest.raises(TypeError, match="a name or a function"):
        nn.Activation(3)


def test_activation_repr():
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Activation(lambda x: x.sin(), name="sin")) == "Activation(sin)"


# ---------------------------------------------------------------- per-unit activations


@pytest.mark.usefixtures("float64")
def test_per_unit_activation_applies_each_units_own_function():
    def shifted(x):
        return (x - 1.0).relu()

    specs = ["relu", "sin", shifted, "relu", "tanh", shifted, "sin"]
    layer = nn.PerUnitActivation(specs)
    x = Tensor(away_from_zero((3, len(specs))), requires_grad=True)
    columns = {"relu": lambda v: np.maximum(v, 0), "sin": np.sin, "tanh": np.tanh}
    expected = np.stack(
        [
            columns[s](x.data[:, j]) if isinstance(s, str) else np.maximum(x.data[:, j] - 1, 0)
            for j, s in enumerate(specs)
        ],
        axis=1,
    )
    np.testing.assert_allclose(layer(x).data, expected)
    x.data[np.abs(x.data - 1) < 0.1] += 0.3  # keep away from the shifted kink too
    assert_param_gradients_match(lambda: layer(x), [x])
    assert repr(layer) == "PerUnitActivation(units=7, relu: 2, sin: 2, shifted: 2, tanh: 1)"


@pytest.mark.usefixtures("float64")
def test_per_unit_activation_in_an_mlp_trains_its_parameters():
    mix = nn.PerUnitActivation(["relu", "sin"] * 3)
    mlp = nn.MLP([2, 6, 6, 1], activation=mix)
    x = Tensor(rng.standard_normal((5, 2)))
    assert_param_gradients_match(lambda: mlp(x), list(mlp.parameters()))


def test_per_unit_activation_checks_the_width():
    with pytest.raises(ValueError, match=r"has 3 activations .* shape \(2, 4\)"):
        nn.PerUnitActivation(["relu"] * 3)(Tensor(np.zeros((2, 4))))
    with pytest.raises(ValueError, match="one activation per unit"):
        nn.PerUnitActivation("relu")


# ---------------------------------------------------------------- Dropout


def test_dropout_is_the_identity_in_eval_mode():
    drop = nn.Dropout(0.5).eval()
    x = Tensor(np.ones((3, 4)))
    assert drop(x) is x


def test_dropout_statistics_and_scaling():
    manual_seed(0)
    p = 0.3
    out = nn.Dropout(p)(Tensor(np.ones((200, 500)))).data
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1 / (1 - p), rtol=1e-6)  # survivors scaled by 1/(1-p)
    assert abs(1 - kept.mean() - p) < 0.005  # about p of the units are zeroed (5 sigma: 0.0032)
    assert abs(out.mean() - 1) < 0.01  # the expected value is unchanged
    assert out.dtype == np.float32


@pytest.mark.usefixtures("float64")
def test_dropout_gradient_flows_only_through_kept_units():
    drop = nn.Dropout(0.5)
    x = Tensor(rng.standard_normal((4, 6)), requires_grad=True)

    def same_mask():
        manual_seed(7)
        return drop(x)

    assert_param_gradients_match(same_mask, [x])
    np.testing.assert_array_equal(x.grad == 0, same_mask().data == 0)


def test_dropout_edge_probabilities():
    x = Tensor(np.ones((2, 3)))
    assert nn.Dropout(0.0)(x) is x
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).data, 0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        nn.Dropout(1.5)


def test_layers_build_graphs_of_primitives_only():
    mlp = nn.MLP([2, 4, 4, 1], activation=nn.PerUnitActivation(["relu", "sin"] * 2), dropout=0.1)
    out = mlp(Tensor(np.ones((3, 2))))
    stack, seen = [out], set()
    while stack:
        t = stack.pop()
        if t.op is not None and id(t) not in seen:
            seen.add(id(t))
            assert type(t.op) in PRIMITIVES
            stack.extend(t.op.parents)


@pytest.mark.usefixtures("float64")
def test_the_gradient_check_itself_catches_a_wrong_derivative():
    from tinygrad_edu import Function

    class WrongSquare(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return (grad * x,)  # should be 2 * x

    x = Tensor(rng.standard_normal(3), requires_grad=True)
    with pytest.raises(AssertionError, match="gradient of tensor 0"):
        assert_param_gradients_match(lambda: WrongSquare.apply(x), [x])
