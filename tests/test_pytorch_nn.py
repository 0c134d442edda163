"""nn the PyTorch way: nn.functional, loss modules, containers, init, clipping, DataLoader, clear errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import nn
import nn.functional as F
from tinygrad_edu import Tensor, manual_seed

LOGITS = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0], [-2.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
LABELS = np.array([0, 2, 1, 1])


def logits() -> Tensor:
    return Tensor(LOGITS, requires_grad=True, dtype=np.float64)


def log_softmax_reference(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


# ---------------------------------------------------------------- nn.functional


def test_functional_activations_are_the_methods() -> None:
    x = Tensor([[-2.0, -0.5, 0.0, 1.5]])
    pairs = [
        (F.relu(x), x.relu()),
        (F.leaky_relu(x, 0.2), x.leaky_relu(0.2)),
        (F.sigmoid(x), x.sigmoid()),
        (F.tanh(x), x.tanh()),
        (F.softmax(x, dim=1), x.softmax(axis=1)),
        (F.log_softmax(x, dim=-1), x.log_softmax(axis=-1)),
    ]
    for functional, method in pairs:
        np.testing.assert_array_equal(functional.numpy(), method.numpy())
    np.testing.assert_allclose(F.relu(x).numpy(), [[0, 0, 0, 1.5]])


def test_functional_linear() -> None:
    layer = nn.Linear(3, 2)
    x = Tensor(np.ones((4, 3)))
    np.testing.assert_array_equal(F.linear(x, layer.weight, layer.bias).numpy(), layer(x).numpy())
    expected = x.numpy() @ layer.weight.numpy().T
    np.testing.assert_allclose(F.linear(x, layer.weight).numpy(), expected, rtol=1e-6)


def test_functional_losses_are_the_library_losses() -> None:
    assert F.cross_entropy is nn.cross_entropy
    assert F.mse_loss is nn.mse_loss
    assert F.binary_cross_entropy_with_logits is nn.binary_cross_entropy_with_logits


def test_functional_dropout_respects_training() -> None:
    x = Tensor(np.ones((200, 50)))
    assert F.dropout(x, 0.5, training=False) is x
    manual_seed(0)
    dropped = F.dropout(x, p=0.25).numpy()
    assert set(np.unique(dropped)) == {0.0, np.float32(1 / 0.75)}
    assert 0.2 < (dropped == 0).mean() < 0.3


def test_dropout_module_uses_the_same_computation() -> None:
    x = Tensor(np.ones((10, 10)))
    manual_seed(5)
    by_module = nn.Dropout(0.3)(x).numpy()
    manual_seed(5)
    np.testing.assert_array_equal(by_module, F.dropout(x, 0.3).numpy())


@pytest.mark.parametrize("p", ["0.5", None, True])
def test_dropout_with_a_non_number_is_a_type_error(p: object) -> None:
    with pytest.raises(TypeError, match="Dropout: p is the probability.*number"):
        nn.Dropout(p)  # type: ignore[arg-type]


@pytest.mark.parametrize("p", [1.5, -0.1, math.nan])
def test_dropout_outside_zero_one(p: float) -> None:
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        nn.Dropout(p)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        F.dropout(Tensor([1.0]), p)


def test_dropout_with_a_valid_probability_still_works() -> None:
    assert nn.Dropout(0.5).p == 0.5
    assert nn.Dropout(np.float64(0.2)).p == pytest.approx(0.2)


# ---------------------------------------------------------------- losses


def test_nll_loss_after_log_softmax_is_cross_entropy() -> None:
    z = logits()
    np.testing.assert_allclose(
        F.nll_loss(F.log_softmax(z, dim=1), LABELS).item(), F.cross_entropy(z, LABELS).item(), rtol=1e-12
    )
    expected = -log_softmax_reference(LOGITS)[np.arange(4), LABELS]
    np.testing.assert_allclose(F.nll_loss(z.log_softmax(axis=1), LABELS, reduction="none").numpy(), expected)


def test_nll_loss_rejects_float_targets() -> None:
    with pytest.raises(TypeError, match="integer class labels"):
        F.nll_loss(logits().log_softmax(axis=1), LABELS.astype(float))


def test_l1_loss() -> None:
    pred = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    loss = F.l1_loss(pred, [0.0, 0.0, 5.0])
    assert loss.item() == pytest.approx((1 + 2 + 2) / 3)
    loss.backward()
    np.testing.assert_allclose(pred.grad, [1 / 3, -1 / 3, -1 / 3])
    with pytest.raises(ValueError, match="shape"):
        F.l1_loss(pred, [1.0, 2.0])


def test_binary_cross_entropy_on_probabilities() -> None:
    p = np.array([0.9, 0.2, 0.6])
    y = np.array([1.0, 0.0, 1.0])
    expected = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()
    assert F.binary_cross_entropy(Tensor(p, dtype=np.float64), y).item() == pytest.approx(expected)
    z = Tensor(np.log(p / (1 - p)), dtype=np.float64)
    assert F.binary_cross_entropy(z.sigmoid(), y).item() == pytest.approx(
        F.binary_cross_entropy_with_logits(z, y).item()
    )


def test_binary_cross_entropy_of_a_saturated_probability_is_finite() -> None:
    loss = F.binary_cross_entropy(Tensor([0.0, 1.0], dtype=np.float64), [1.0, 0.0], reduction="none")
    np.testing.assert_allclose(loss.numpy(), [100.0, 100.0], rtol=1e-6)


def test_binary_cross_entropy_rejects_scores() -> None:
    with pytest.raises(ValueError, match="with_logits"):
        F.binary_cross_entropy(Tensor([2.0, -1.0]), [1.0, 0.0])


@pytest.mark.parametrize(
    ("module", "function", "pred", "target"),
    [
        (nn.CrossEntropyLoss, nn.cross_entropy, LOGITS, LABELS),
        (nn.NLLLoss, nn.nll_loss, log_softmax_reference(LOGITS), LABELS),
        (nn.MSELoss, nn.mse_loss, LOGITS, np.zeros((4, 3))),
        (nn.L1Loss, nn.l1_loss, LOGITS, np.ones((4, 3))),
        (nn.BCEWithLogitsLoss, nn.binary_cross_entropy_with_logits, LOGITS, np.full((4, 3), 0.5)),
        (nn.BCELoss, nn.binary_cross_entropy, 1 / (1 + np.exp(-LOGITS)), np.full((4, 3), 0.5)),
    ],
)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_modules_equal_the_functions(module, function, pred, target, reduction) -> None:
    x = Tensor(pred, dtype=np.float64)
    criterion = module(reduction=reduction)
    np.testing.assert_array_equal(criterion(x, target).numpy(), function(x, target, reduction).numpy())
    assert repr(criterion) == f"{module.__name__}(reduction={reduction!r})"


def test_loss_module_rejects_an_unknown_reduction() -> None:
    with pytest.raises(ValueError, match="reduction must be"):
        nn.CrossEntropyLoss(reduction="average")


def test_cross_entropy_loss_module_trains() -> None:
    z = logits()
    nn.CrossEntropyLoss()(z, LABELS).backward()
    probs = np.exp(log_softmax_reference(LOGITS))
    np.testing.assert_allclose(z.grad, (probs - np.eye(3)[LABELS]) / 4, rtol=1e-10)


# ---------------------------------------------------------------- containers


class Tower(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
        self.heads = nn.ModuleDict({"digit": nn.Linear(4, 10), "parity": nn.Linear(4, 2)})
        self.flat = nn.Flatten()

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        x = self.flat(x)
        for block in self.blocks:
            x = block(x).relu()
        return {name: head(x) for name, head in self.heads.items()}


def test_module_list_and_dict_register_parameters() -> None:
    tower = Tower()
    names = [name for name, _ in tower.named_parameters()]
    assert names[:2] == ["blocks.0.weight", "blocks.0.bias"]
    assert "heads.parity.bias" in names
    assert len(names) == 3 * 2 + 2 * 2
    out = tower(Tensor(np.ones((5, 2, 2))))
    assert out["digit"].shape == (5, 10) and out["parity"].shape == (5, 2)
    tower.eval()
    assert not tower.blocks[2].training and not tower.heads["digit"].training


def test_module_list_behaves_like_a_list() -> None:
    layers = nn.ModuleList()
    layers.append(nn.ReLU()).extend([nn.Tanh(), nn.Sigmoid()])
    assert len(layers) == 3
    assert isinstance(layers[-1], nn.Sigmoid)
    assert [type(m) for m in layers[1:]] == [nn.Tanh, nn.Sigmoid]
    layers[0] = nn.Identity()
    assert isinstance(layers[0], nn.Identity)
    with pytest.raises(TypeError, match="not an nn.Module"):
        layers.append(lambda x: x)  # type: ignore[arg-type]
    with pytest.raises(NotImplementedError, match="Iterate over it"):
        layers(Tensor([1.0]))


def test_module_dict_behaves_like_a_dict() -> None:
    heads = nn.ModuleDict()
    heads["a"] = nn.Linear(1, 1)
    assert "a" in heads and list(heads) == ["a"] and len(heads) == 1
    with pytest.raises(KeyError, match="has no module 'b'"):
        heads["b"]
    with pytest.raises(KeyError, match="without '.'"):
        heads["x.y"] = nn.Linear(1, 1)
    del heads["a"]
    assert len(heads) == 0


def test_a_plain_list_of_modules_warns_naming_the_attribute() -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = [nn.Linear(2, 2), nn.Linear(2, 1)]

    with pytest.warns(UserWarning, match=r"Net\.layers is a plain list of modules.*nn\.ModuleList"):
        net = Net()
    assert list(net.parameters()) == []  # still PyTorch's behaviour: only the warning is new


def test_a_plain_dict_of_modules_warns_with_module_dict() -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.heads = {"a": nn.Linear(2, 2)}

    with pytest.warns(UserWarning, match="nn.ModuleDict"):
        Net()


def test_lists_without_modules_do_not_warn() -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.sizes = [784, 100, 10]
            self.layers = nn.ModuleList([nn.Linear(2, 2)])

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list(Net().parameters())) == 2


def test_flatten_and_identity() -> None:
    x = Tensor(np.zeros((3, 2, 4, 5)))
    assert nn.Flatten()(x).shape == (3, 40)
    assert nn.Flatten(start_dim=2)(x).shape == (3, 2, 20)
    assert nn.Identity()(x) is x


# ---------------------------------------------------------------- Linear and load_state_dict inputs


def test_linear_accepts_a_nested_list_like_an_array() -> None:
    layer = nn.Linear(3, 4)
    from_list = layer([[1, 2, 3]])
    from_array = layer(np.array([[1.0, 2.0, 3.0]], dtype=np.float32))
    assert from_list.shape == (1, 4)
    np.testing.assert_array_equal(from_list.numpy(), from_array.numpy())


def test_linear_with_a_ragged_list_names_the_problem() -> None:
    with pytest.raises(TypeError, match="cannot make a tensor from list"):
        nn.Linear(3, 4)([[1, 2, 3], [4]])


def test_load_state_dict_with_a_ragged_list_names_the_key() -> None:
    layer = nn.Linear(2, 2)
    before = layer.state_dict()
    with pytest.raises(ValueError, match="weight: cannot be read as an array"):
        layer.load_state_dict({"weight": [[1.0, 2.0], [3.0]], "bias": [0.0, 0.0]})
    np.testing.assert_array_equal(layer.weight.numpy(), before["weight"])


def test_load_state_dict_beyond_the_dtype_range_is_an_error_not_inf() -> None:
    layer = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="weight: values up to 1e\\+300 are beyond the range of float32"):
        layer.load_state_dict({"weight": np.full((2, 2), 1e300), "bias": np.zeros(2)})
    assert np.isfinite(layer.weight.numpy()).all()


def test_load_state_dict_from_lists_and_float64_still_works() -> None:
    layer = nn.Linear(2, 2)
    layer.load_state_dict({"weight": [[1.0, 2.0], [3.0, 4.0]], "bias": np.array([0.5, -0.5])})
    assert layer.weight.dtype == np.float32
    np.testing.assert_array_equal(layer.weight.numpy(), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(layer.bias.numpy(), [0.5, -0.5])


# ---------------------------------------------------------------- nn.init


def weight(shape: tuple[int, int] = (400, 500)) -> Tensor:
    return Tensor(np.zeros(shape), requires_grad=True)


def test_init_constant_fills() -> None:
    w = weight((2, 3))
    assert nn.init.ones_(w) is w and (w.numpy() == 1).all()
    assert (nn.init.zeros_(w).numpy() == 0).all()
    assert (nn.init.constant_(w, 0.25).numpy() == 0.25).all()


def test_init_random_fills_have_pytorchs_spread() -> None:
    manual_seed(0)
    fan_out, fan_in = 400, 500
    cases = [
        (nn.init.normal_(weight(), mean=1.0, std=0.5), 0.5),
        (nn.init.uniform_(weight(), a=-3.0, b=3.0), math.sqrt(36 / 12)),
        (nn.init.kaiming_normal_(weight()), math.sqrt(2 / fan_in)),
        (nn.init.kaiming_normal_(weight(), nonlinearity="relu", mode="fan_out"), math.sqrt(2 / fan_out)),
        (nn.init.kaiming_normal_(weight(), a=1.0), math.sqrt(1 / fan_in)),
        (nn.init.kaiming_uniform_(weight(), nonlinearity="tanh"), 5 / 3 / math.sqrt(fan_in)),
        (nn.init.xavier_normal_(weight()), math.sqrt(2 / (fan_in + fan_out))),
    ]
    for filled, std in cases:
        assert filled.numpy().std() == pytest.approx(std, rel=0.02)
    assert nn.init.normal_(weight(), mean=1.0).numpy().mean() == pytest.approx(1.0, abs=0.01)


def test_calculate_gain() -> None:
    assert nn.init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    with pytest.raises(ValueError, match="unknown nonlinearity 'swish'"):
        nn.init.calculate_gain("swish")


def test_kaiming_rejects_an_unknown_mode() -> None:
    with pytest.raises(ValueError, match="fan_in"):
        nn.init.kaiming_normal_(weight(), mode="fan_avg")


# ---------------------------------------------------------------- nn.utils


def params_with_grads(*grads: list[float]) -> list[Tensor]:
    params = []
    for grad in grads:
        p = Tensor(np.zeros(len(grad)), requires_grad=True, dtype=np.float64)
        p.grad = np.array(grad, dtype=np.float64)
        params.append(p)
    return params


def test_clip_grad_norm_scales_all_gradients_together() -> None:
    params = params_with_grads([3.0, 0.0], [0.0, 4.0])  # joint norm 5
    total = nn.utils.clip_grad_norm_(params, max_norm=1.0)
    assert total == pytest.approx(5.0)
    np.testing.assert_allclose(params[0].grad, [0.6, 0.0], rtol=1e-5)
    np.testing.assert_allclose(params[1].grad, [0.0, 0.8], rtol=1e-5)


def test_clip_grad_norm_leaves_small_gradients_alone() -> None:
    params = params_with_grads([0.3, 0.4])
    assert nn.utils.clip_grad_norm_(params, 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(params[0].grad, [0.3, 0.4])


def test_clip_grad_norm_inf_norm_and_a_model() -> None:
    params = params_with_grads([3.0, -7.0], [1.0])
    assert nn.utils.clip_grad_norm_(params, 3.5, norm_type=math.inf) == 7.0
    np.testing.assert_allclose(params[0].grad, [1.5, -3.5], rtol=1e-5)
    model = nn.Linear(3, 1)
    (model(Tensor(np.ones((2, 3)))) * 100.0).sum().backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    norm = math.sqrt(sum(float((p.grad**2).sum()) for p in model.parameters()))
    assert norm == pytest.approx(1.0, rel=1e-4)


def test_clip_grad_value_() -> None:
    params = params_with_grads([3.0, -7.0, 0.5])
    nn.utils.clip_grad_value_(params, 1.0)
    np.testing.assert_array_equal(params[0].grad, [1.0, -1.0, 0.5])


def test_clipping_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="max_norm must be > 0"):
        nn.utils.clip_grad_norm_(params_with_grads([1.0]), 0)
    with pytest.raises(TypeError, match="max_norm must be a number"):
        nn.utils.clip_grad_norm_(params_with_grads([1.0]), "1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="pass model.parameters"):
        nn.utils.clip_grad_value_([np.zeros(2)], 1.0)  # type: ignore[list-item]


# ---------------------------------------------------------------- nn.data


def test_tensor_dataset_and_data_loader() -> None:
    x = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    dataset = nn.data.TensorDataset(x, y)
    assert len(dataset) == 10
    xi, yi = dataset[3]
    np.testing.assert_array_equal(xi, [6.0, 7.0])
    assert yi == 3
    loader = nn.data.DataLoader(dataset, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [len(yb) for _, yb in batches] == [4, 4, 2]
    assert all(isinstance(t, Tensor) for batch in batches for t in batch)
    assert np.concatenate([yb.numpy() for _, yb in batches]).tolist() == list(range(10))


def test_data_loader_shuffles_reproducibly_and_drops_last() -> None:
    dataset = nn.data.TensorDataset(np.arange(10), np.arange(10) * 10)
    first = [yb.tolist() for _, yb in nn.data.DataLoader(dataset, 3, shuffle=True, seed=1, drop_last=True)]
    again = [yb.tolist() for _, yb in nn.data.DataLoader(dataset, 3, shuffle=True, seed=1, drop_last=True)]
    assert first == again and len(first) == 3
    assert sorted(sum(first, [])) != sum(first, [])  # shuffled
    for xb, yb in nn.data.DataLoader(dataset, 3, shuffle=True, seed=1):
        np.testing.assert_array_equal(yb.numpy(), xb.numpy() * 10)  # rows stay together


def test_data_loader_resumes_at_an_epoch() -> None:
    dataset = nn.data.TensorDataset(np.arange(8))
    loader = nn.data.DataLoader(dataset, 8, shuffle=True, seed=3)
    epochs = [next(iter(loader))[0].tolist() for _ in range(3)]
    resumed = nn.data.DataLoader(dataset, 8, shuffle=True, seed=3)
    resumed.epoch = 2
    assert next(iter(resumed))[0].tolist() == epochs[2]
    assert epochs[0] != epochs[1]


def test_data_errors() -> None:
    with pytest.raises(ValueError, match="same length"):
        nn.data.TensorDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(TypeError, match="TensorDataset"):
        nn.data.DataLoader(np.zeros(3), 2)  # type: ignore[arg-type]


def test_the_moving_to_pytorch_guide_runs() -> None:
    import re
    import textwrap
    from pathlib import Path

    guide = Path(__file__).resolve().parent.parent / "docs" / "moving_to_pytorch.md"
    blocks = re.findall(r"```python\n(.*?)```", guide.read_text(), flags=re.S)
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(textwrap.dedent(block), namespace)  # noqa: S102  (our own documentation)
    assert 0.0 <= namespace["accuracy"] <= 1.0
    assert namespace["scheduler"].get_last_lr() == [0.0]
