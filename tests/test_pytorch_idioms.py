"""The Tensor idioms a PyTorch or micrograd user types first: each works, or says what to use instead."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import Tensor, cat, manual_seed, stack


def matrix() -> Tensor:
    return Tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]], requires_grad=True)


# ---------------------------------------------------------------- argmax / argmin / any / all


def test_argmax_argmin_give_integer_indices_without_gradient() -> None:
    x = matrix()
    assert x.argmax(dim=1).tolist() == [1, 2]
    assert x.argmin(axis=0).tolist() == [0, 1, 0]
    assert x.argmax().item() == 5  # of the flattened tensor, as numpy and torch
    assert x.argmax(dim=1, keepdim=True).shape == (2, 1)
    assert x.argmax(dim=1).dtype.kind == "i"
    assert not x.argmax(dim=1).requires_grad


def test_argmax_rejects_a_bad_axis_clearly() -> None:
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        matrix().argmax(dim=2)


def test_accuracy_the_pytorch_way() -> None:
    logits = Tensor([[0.1, 2.0], [3.0, -1.0], [0.0, 1.0]])
    labels = np.array([1, 0, 0])
    assert (logits.argmax(dim=1) == labels).float().mean().item() == pytest.approx(2 / 3)


def test_any_all_on_comparisons() -> None:
    x = matrix()
    assert bool((x > 5).any())
    assert bool((x > 0.5).all()) and not bool((x > 5).all())
    assert (x > 2).all(axis=0).tolist() == [False, False, True]
    assert (x > 4).any(dim=1, keepdim=True).shape == (2, 1)


# ---------------------------------------------------------------- var / std


def test_var_and_std_follow_numpy_ddof_default() -> None:
    values = np.array([[1.0, 5.0, 3.0], [4.0, 2.0, 8.0]])
    x = Tensor(values, dtype=np.float64)
    np.testing.assert_allclose(x.var().item(), values.var())
    np.testing.assert_allclose(x.std(dim=1).numpy(), values.std(axis=1))
    np.testing.assert_allclose(x.var(axis=0, ddof=1).numpy(), values.var(axis=0, ddof=1))
    assert x.std(dim=0, keepdim=True).shape == (1, 3)


def test_var_gradient_matches_the_formula() -> None:
    values = np.array([1.0, 2.0, 6.0])
    x = Tensor(values, requires_grad=True, dtype=np.float64)
    x.var().backward()
    np.testing.assert_allclose(x.grad, 2 * (values - values.mean()) / values.size)


def test_var_without_degrees_of_freedom_is_an_error() -> None:
    with pytest.raises(ValueError, match="degrees of freedom"):
        Tensor([1.0]).var(ddof=1)


# ---------------------------------------------------------------- clone / astype / float / double


def test_clone_copies_and_keeps_the_gradient_path() -> None:
    x = matrix()
    y = x.clone()
    assert y.numpy() is not x.numpy()
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    (y * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 2.0))
    plain = Tensor([1, 2])
    copy = plain.clone()
    copy.numpy()[0] = 9
    assert plain.tolist() == [1, 2]


def test_float_double_astype() -> None:
    labels = Tensor(np.array([0, 1, 1]))
    assert labels.float().dtype == np.float32
    assert labels.double().dtype == np.float64
    assert labels.astype(np.float64).tolist() == [0.0, 1.0, 1.0]
    mask = Tensor([1.0, -1.0]) > 0
    assert mask.float().tolist() == [1.0, 0.0]
    x = matrix()
    assert x.float() is x  # already float32: the same tensor, still in the graph


def test_astype_of_a_graph_tensor_is_an_error_not_a_silent_cut() -> None:
    with pytest.raises(RuntimeError, match="detach"):
        matrix().double()
    assert matrix().detach().double().dtype == np.float64


def test_astype_to_a_non_number_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="astype"):
        Tensor([1, 2]).astype(str)
    with pytest.raises(TypeError, match="'float33' is not a dtype"):
        Tensor([1, 2]).astype("float33")


# ---------------------------------------------------------------- view / unsqueeze / squeeze / flatten / permute


def test_shape_idioms() -> None:
    x = Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.view(6, 4).shape == (6, 4)
    assert x.view(-1).shape == (24,)
    assert x.unsqueeze(0).shape == (1, 2, 3, 4)
    assert x.unsqueeze(dim=-1).shape == (2, 3, 4, 1)
    assert x.unsqueeze(1).squeeze(1).shape == (2, 3, 4)
    assert Tensor(np.zeros((1, 3, 1))).squeeze().shape == (3,)
    assert x.flatten(1).shape == (2, 12)
    assert x.flatten(start_dim=1).shape == (2, 12)
    np.testing.assert_array_equal(x.permute(0, 2, 1).numpy(), x.numpy().transpose(0, 2, 1))


def test_squeeze_of_a_non_unit_axis_is_an_error() -> None:
    with pytest.raises(ValueError, match="has size 3, not 1"):
        Tensor(np.zeros((1, 3))).squeeze(dim=1)


def test_unsqueeze_out_of_range() -> None:
    with pytest.raises(ValueError, match="out of range"):
        Tensor(np.zeros((2, 3))).unsqueeze(4)


def test_view_gradient_flows() -> None:
    x = matrix()
    (x.view(3, 2) * Tensor(np.arange(6.0).reshape(3, 2))).sum().backward()
    np.testing.assert_array_equal(x.grad, np.arange(6.0).reshape(2, 3))


# ---------------------------------------------------------------- factories


def test_factories() -> None:
    assert Tensor.arange(4).tolist() == [0, 1, 2, 3]
    assert Tensor.arange(4).dtype.kind == "i"
    np.testing.assert_allclose(Tensor.arange(0, 1, 0.25).numpy(), [0, 0.25, 0.5, 0.75])
    assert Tensor.arange(0, 1, 0.25).dtype == np.float32
    np.testing.assert_array_equal(Tensor.eye(3).numpy(), np.eye(3))
    assert Tensor.eye(2, 3).shape == (2, 3)
    full = Tensor.full((2, 3), 1.5)
    assert full.shape == (2, 3) and full.dtype == np.float32 and full.tolist()[1][2] == 1.5
    assert Tensor.full(2, 7).tolist() == [7, 7]
    x = matrix()
    assert Tensor.zeros_like(x).shape == x.shape and Tensor.zeros_like(x).numpy().sum() == 0
    assert Tensor.ones_like(Tensor([1, 2])).tolist() == [1, 1]
    assert Tensor.ones_like(x, requires_grad=True).requires_grad


def test_rand_is_uniform_and_seeded() -> None:
    manual_seed(3)
    a = Tensor.rand(1000)
    manual_seed(3)
    b = Tensor.rand(10, 100)
    np.testing.assert_array_equal(a.numpy(), b.numpy().reshape(-1))
    assert 0.0 <= a.numpy().min() and a.numpy().max() < 1.0
    assert 0.4 < a.numpy().mean() < 0.6


# ---------------------------------------------------------------- Python numbers


def test_float_int_and_format_of_a_one_element_tensor() -> None:
    loss = Tensor([[0.123456]])
    assert float(loss) == pytest.approx(0.123456)
    assert int(Tensor(7.9)) == 7
    assert f"{loss:.4f}" == "0.1235"
    assert format(Tensor(3), "d") == "3"
    assert f"{loss}" == str(loss)


def test_float_of_many_elements_says_to_reduce() -> None:
    with pytest.raises(ValueError, match="exactly one element.*reduce"):
        float(matrix())
    with pytest.raises(ValueError, match="exactly one element"):
        f"{matrix():.3f}"


# ---------------------------------------------------------------- dim= / keepdim= aliases


def test_reductions_accept_dim_and_keepdim() -> None:
    x = matrix()
    for name in ("sum", "mean", "max", "min", "logsumexp"):
        by_torch_name = getattr(x, name)(dim=1, keepdim=True)
        by_numpy_name = getattr(x, name)(axis=1, keepdims=True)
        np.testing.assert_array_equal(by_torch_name.numpy(), by_numpy_name.numpy())
        assert by_torch_name.shape == (2, 1)
    np.testing.assert_array_equal(x.softmax(dim=0).numpy(), x.softmax(axis=0).numpy())
    np.testing.assert_array_equal(x.log_softmax(dim=0).numpy(), x.log_softmax(axis=0).numpy())
    assert cat([x, x], dim=1).shape == (2, 6)
    assert stack([x, x], dim=2).shape == (2, 3, 2)


def test_max_with_dim_still_returns_values_only() -> None:
    values = matrix().max(dim=1)
    assert isinstance(values, Tensor) and values.tolist() == [5.0, 6.0]


def test_dim_and_axis_together_is_an_error() -> None:
    with pytest.raises(TypeError, match="not both"):
        matrix().sum(axis=0, dim=1)


def test_gradient_through_dim_alias() -> None:
    x = matrix()
    x.mean(dim=0).sum().backward()
    np.testing.assert_allclose(x.grad, np.full((2, 3), 0.5))


# ---------------------------------------------------------------- size / PyTorch names


def test_size_is_the_count_and_callable_like_pytorch() -> None:
    x = Tensor(np.zeros((2, 3)))
    assert x.size == 6
    assert isinstance(x.size, int)
    assert list(range(x.size)) == list(range(6))
    assert x.size(0) == 2 and x.size(-1) == 3
    assert x.size() == (2, 3)
    assert x.numel() == 6


def test_size_with_a_bad_dimension() -> None:
    with pytest.raises(IndexError, match="out of range.*shape"):
        Tensor(np.zeros((2, 3))).size(2)


@pytest.mark.parametrize(
    ("name", "advice"), [("to", "not needed"), ("cpu", "not needed"), ("cuda", "CPU"), ("clamp", "clip")]
)
def test_pytorch_names_say_what_to_use(name: str, advice: str) -> None:
    with pytest.raises(AttributeError, match=advice):
        getattr(matrix(), name)


def test_unknown_names_keep_pythons_message() -> None:
    with pytest.raises(AttributeError, match="'Tensor' object has no attribute 'no_such_thing'"):
        matrix().no_such_thing  # noqa: B018
    assert not hasattr(matrix(), "no_such_thing")
