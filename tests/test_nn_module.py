"""nn.Module and nn.Sequential: registration, tree walking, modes, repr, state_dict and .npz files."""

import os
import zipfile

import numpy as np
import pytest

import nn
from tinygrad_edu import Tensor, manual_seed


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.ones(3))
        self.inner = nn.Linear(3, 2)
        self.constant = Tensor(np.zeros(3))  # no requires_grad: not a parameter

    def forward(self, x):
        return self.inner(x * self.scale + self.constant)


def test_named_parameters_are_dotted_unique_and_in_assignment_order():
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), Block())
    names = [name for name, _ in net.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.scale", "2.inner.weight", "2.inner.bias"]
    assert [p.name for p in net.parameters()] == ["weight", "bias", "scale", "weight", "bias"]
    assert all(p.requires_grad and p.is_leaf for p in net.parameters())


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(2, 2)
    net = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(net.parameters())) == 2
    assert [name for name, _ in net.named_modules()] == ["", "0", "1"]


def test_named_modules_children_and_modules_follow_pytorch():
    mlp = nn.MLP([4, 8, 8, 2])
    names = [name for name, _ in mlp.named_modules()]
    assert names == ["", "layers", "layers.0", "layers.1", "layers.2", "layers.3", "layers.4"]
    assert [name for name, _ in mlp.named_children()] == ["layers"]
    assert list(mlp.children()) == [mlp.layers]
    assert list(mlp.modules())[0] is mlp
    assert isinstance(list(mlp.layers.children())[1], nn.ReLU)


def test_reassigning_or_deleting_an_attribute_updates_the_registry():
    block = Block()
    block.scale = 3.0
    assert "scale" not in dict(block.named_parameters())
    block.extra = nn.Linear(1, 1)
    assert "extra.weight" in dict(block.named_parameters())
    del block.extra
    assert "extra.weight" not in dict(block.named_parameters())


def test_assigning_before_super_init_is_a_clear_error():
    class Forgetful(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Forgetful()


def test_module_without_forward_says_what_to_do():
    with pytest.raises(NotImplementedError, match="define forward"):
        nn.Module()(Tensor([1.0]))


def test_train_eval_set_the_mode_recursively_and_return_self():
    mlp = nn.MLP([2, 4, 1], dropout=0.5)
    assert all(m.training for m in mlp.modules())
    assert mlp.eval() is mlp
    assert not any(m.training for m in mlp.modules())
    mlp.train()
    assert all(m.training for m in mlp.modules())


def test_zero_grad_sets_every_gradient_to_none():
    mlp = nn.MLP([2, 4, 1])
    mlp(Tensor(np.ones((3, 2)))).mean().backward()
    assert all(p.grad is not None for p in mlp.parameters())
    mlp.zero_grad()
    assert all(p.grad is None for p in mlp.parameters())


def test_forward_records_the_module_stack_on_each_tensor():
    mlp = nn.MLP([2, 3, 1])
    out = mlp(Tensor(np.ones((1, 2))))
    assert out.scope == (mlp, mlp.layers, mlp.layers[2])
    hidden, _, _ = out.op.parents  # out = linear(hidden, weight, bias)
    assert hidden.scope == (mlp, mlp.layers, mlp.layers[1])
    assert Tensor([1.0]).scope == ()


def test_repr_shows_the_module_tree():
    assert repr(nn.MLP([2, 4, 1], activation="tanh", dropout=0.1)) == (
        "MLP(\n"
        "  (layers): Sequential(\n"
        "    (0): Linear(in_features=2, out_features=4, bias=True)\n"
        "    (1): Tanh()\n"
        "    (2): Dropout(p=0.1)\n"
        "    (3): Linear(in_features=4, out_features=1, bias=True)\n"
        "  )\n"
        ")"
    )


def test_sequential_indexing_len_iteration_and_type_check():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and list(seq) == layers
    assert seq[0] is layers[0] and seq[-1] is layers[2]
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == layers[1:]
    with pytest.raises(TypeError, match=r"nn.Activation\(fn\)"):
        nn.Sequential(nn.Linear(1, 1), lambda x: x.relu())


def test_state_dict_is_a_copy_and_round_trips_to_identical_outputs():
    manual_seed(0)
    source, target = nn.MLP([3, 5, 2]), nn.MLP([3, 5, 2])
    x = Tensor(np.random.default_rng(1).standard_normal((4, 3)))
    state = source.state_dict()
    assert list(state) == ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]
    source.layers[0].weight.data += 1.0  # a snapshot does not follow later changes
    assert not np.array_equal(state["layers.0.weight"], source.layers[0].weight.data)
    weight = target.layers[0].weight
    result = target.load_state_dict(state)
    assert result == nn.IncompatibleKeys([], [])
    assert target.layers[0].weight is weight  # loaded in place: optimizers keep their tensors
    source.layers[0].weight.data -= 1.0
    np.testing.assert_array_equal(target(x).data, source(x).data)


def test_load_state_dict_lists_every_problem_and_changes_nothing():
    mlp = nn.MLP([3, 5, 2])
    before = mlp.state_dict()
    state = nn.MLP([3, 4, 2]).state_dict()
    del state["layers.2.bias"]
    state["head.weight"] = np.zeros(2)
    with pytest.raises(ValueError) as error:
        mlp.load_state_dict(state)
    message = str(error.value)
    assert "missing key(s): layers.2.bias" in message
    assert "unexpected key(s): head.weight" in message
    assert "layers.0.weight: shape (4, 3) in the state, (5, 3) in the module" in message
    for name, value in mlp.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_load_state_dict_non_strict_returns_what_it_skipped():
    mlp = nn.MLP([2, 2])
    state = {"layers.0.weight": np.ones((2, 2)), "other": np.ones(1)}
    result = mlp.load_state_dict(state, strict=False)
    assert result.missing_keys == ["layers.0.bias"] and result.unexpected_keys == ["other"]
    np.testing.assert_array_equal(mlp.layers[0].weight.data, np.ones((2, 2)))


def test_save_and_load_npz_round_trip_without_pickle(tmp_path):
    manual_seed(0)
    source = nn.MLP([3, 8, 2], activation="tanh")
    path = tmp_path / "model.npz"
    source.save(path)
    assert os.listdir(tmp_path) == ["model.npz"]  # the temporary file was renamed, not left behind
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(name for name, _ in source.named_parameters())
    with zipfile.ZipFile(path) as archive:
        assert all(name.endswith(".npy") for name in archive.namelist())
    target = nn.MLP([3, 8, 2], activation="tanh")
    assert target.load(path) is target
    x = Tensor(np.random.default_rng(2).standard_normal((5, 3)))
    np.testing.assert_array_equal(target(x).data, source(x).data)


def test_load_names_the_file_and_the_mismatch(tmp_path):
    path = tmp_path / "small.npz"
    nn.MLP([3, 4, 2]).save(str(path))
    with pytest.raises(ValueError, match=r"(?s)small.npz.*layers.0.weight: shape \(4, 3\)"):
        nn.MLP([3, 5, 2]).load(path)


def test_failed_save_leaves_no_file(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        nn.Linear(2, 2).save(tmp_path / "model.npz")
    assert os.listdir(tmp_path) == []
