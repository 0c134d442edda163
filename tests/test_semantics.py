"""Engine semantics: construction, dtypes, backward rules, gradient hygiene, kink conventions, errors."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import nn
import tinygrad_edu as tg
from tinygrad_edu import Tensor, linear
from tinygrad_edu.autograd import run_backward, topological_order

# ---------------------------------------------------------------- construction and dtypes


def test_floating_data_defaults_to_float32_and_ints_stay_ints():
    assert Tensor(1.5).dtype == np.float32
    assert Tensor([[1.0, 2.0]]).dtype == np.float32
    assert Tensor(np.zeros(3, dtype=np.float64)).dtype == np.float32
    assert Tensor([1, 2, 3]).dtype == np.int64
    assert Tensor(np.array([1, 2], dtype=np.uint8)).dtype == np.uint8
    assert Tensor([True, False]).dtype == np.bool_
    assert Tensor([1.0], dtype=np.float64).dtype == np.float64
    assert Tensor(Tensor([1.0, 2.0])).dtype == np.float32


def test_set_default_dtype_changes_new_floating_tensors():
    try:
        tg.set_default_dtype(np.float64)
        assert Tensor([1.0]).dtype == np.float64
        assert Tensor.randn(2).dtype == np.float64
        assert Tensor([1]).dtype == np.int64
    finally:
        tg.set_default_dtype(np.float32)
    with pytest.raises(TypeError, match="floating"):
        tg.set_default_dtype(np.int32)


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="int64.*labels"):
        Tensor([1, 2], requires_grad=True)


def test_bad_data_is_a_clear_type_error():
    with pytest.raises(TypeError, match="cannot make a tensor"):
        Tensor([[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError, match="unsupported dtype"):
        Tensor("abc")


def test_constructor_copies_its_data():
    array = np.ones(3, dtype=np.float32)
    t = Tensor(array)
    array[0] = 5
    assert t.data[0] == 1


def test_attributes():
    t = Tensor(np.zeros((2, 3)), requires_grad=True, name="w")
    assert (t.shape, t.ndim, t.size, t.dtype, t.name) == ((2, 3), 2, 6, np.float32, "w")
    assert t.grad is None and t.op is None and t.is_leaf
    y = t * 2
    assert y.op is not None and y.op.name == "mul" and y.requires_grad and not y.is_leaf
    assert isinstance(t.numpy(), np.ndarray)
    assert Tensor([[1, 2]]).tolist() == [[1, 2]]
    assert Tensor([3.5]).item() == 3.5
    with pytest.raises(ValueError, match="exactly one element"):
        t.item()


def test_repr_is_readable():
    t = Tensor([1.0, 2.0], requires_grad=True, name="w")
    text = repr(t)
    assert "Tensor([1., 2.]" in text and "name='w'" in text and "requires_grad=True" in text
    assert "op=mul" in repr(t * 2)


def test_factories_are_reproducible_with_manual_seed():
    tg.manual_seed(7)
    a = Tensor.randn(3, 2)
    b = Tensor.uniform(4, low=-1.0, high=1.0)
    tg.manual_seed(7)
    np.testing.assert_array_equal(a.data, Tensor.randn((3, 2)).data)
    np.testing.assert_array_equal(b.data, Tensor.uniform(4, low=-1.0, high=1.0).data)
    assert np.all((b.data >= -1) & (b.data < 1))
    assert Tensor.zeros(2, 3).shape == (2, 3) and Tensor.ones(2).data.sum() == 2
    assert Tensor.zeros(2, requires_grad=True).requires_grad


# ---------------------------------------------------------------- float32 stays float32

FLOAT32_OPS = {
    "add scalar": lambda x: x + 1,
    "radd": lambda x: 1.5 + x,
    "rsub": lambda x: 2 - x,
    "mul": lambda x: x * 0.1,
    "div": lambda x: x / 3,
    "rdiv": lambda x: 1 / (x + 5),
    "pow": lambda x: x**2,
    "rpow": lambda x: 2.0**x,
    "numpy float64 array": lambda x: np.ones(x.shape) * x,
    "exp log": lambda x: (x.exp() + 1).log(),
    "sqrt abs": lambda x: x.abs().sqrt(),
    "trig": lambda x: x.sin() + x.cos() + x.tanh(),
    "activations": lambda x: x.relu() + x.leaky_relu(0.2) + x.sigmoid(),
    "clip max min": lambda x: x.clip(-0.5, 0.5) + x.maximum(0.1) + x.minimum(0.2),
    "reductions": lambda x: x.sum(0) + x.mean(0) + x.max(0) + x.min(0) + x.logsumexp(0),
    "softmax": lambda x: x.softmax() + x.log_softmax(),
    "matmul": lambda x: x @ x.T,
    "where": lambda x: tg.where(x > 0, x, 0.5),
    "shape": lambda x: tg.stack([x, x]).reshape(-1)[::2],
}


@pytest.mark.parametrize("name", sorted(FLOAT32_OPS))
def test_float32_stays_float32_forward_and_backward(name):
    x = Tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    out = FLOAT32_OPS[name](x)
    assert out.dtype == np.float32, name
    out.backward(np.ones(out.shape))
    assert x.grad.dtype == np.float32, name


# ---------------------------------------------------------------- operators with numpy and scalars


def test_numpy_array_on_the_left_gives_a_tensor():
    t = Tensor([1.0, 2.0], requires_grad=True)
    for out in (np.array([3.0, 4.0]) * t, np.array([1.0, 1.0]) + t, np.eye(2) @ t, 2 - t):
        assert isinstance(out, Tensor) and out.requires_grad


def test_comparisons_give_boolean_tensors_without_gradient():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    for out in (x < 2, x <= 2, x > 2, x >= 2, x == 2, x != 2):
        assert out.dtype == np.bool_ and not out.requires_grad and out.op is None
    np.testing.assert_array_equal((x >= 2).data, [False, True, True])
    np.testing.assert_array_equal((x == Tensor([1.0, 0.0, 3.0])).data, [True, False, True])
    assert {x: 1}[x] == 1  # still hashable by identity


# ---------------------------------------------------------------- backward rules


def test_backward_on_scalar_defaults_to_one_and_accumulates():
    w = Tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    np.testing.assert_array_equal(w.grad, [6.0, 6.0])
    w.zero_grad()
    assert w.grad is None


def test_backward_on_non_scalar_needs_a_gradient():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"shape \(2,\).*mean\(\)"):
        (w * 2).backward()
    (w * 2).backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(w.grad, [2.0, 20.0])
    with pytest.raises(ValueError, match="must match"):
        (w * 2).backward(np.ones(3))


def test_backward_without_requires_grad_is_explained():
    with pytest.raises(RuntimeError, match="requires_grad=True"):
        Tensor([1.0]).exp().sum().backward()


def test_second_backward_through_released_graph_is_a_clear_error():
    w = Tensor([1.0, 2.0], requires_grad=True)
    loss = (w.exp() * w).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


def test_retain_graph_allows_a_second_backward():
    w = Tensor([1.0, 2.0], requires_grad=True)
    loss = (w.exp() * w).sum()
    loss.backward(retain_graph=True)
    first = w.grad.copy()
    loss.backward()
    np.testing.assert_allclose(w.grad, 2 * first)


def test_ten_thousand_op_chain_does_not_recurse():
    x = Tensor([0.5], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0001**10_000], rtol=1e-3)


def test_value_used_twice_gets_both_contributions():
    x = Tensor([3.0], requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_allclose(x.grad, [7.0])


def test_gradients_are_never_aliased():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()  # add hands the same upstream array to both inputs
    assert not np.shares_memory(a.grad, b.grad)
    a.grad += 100
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])
    w = Tensor(np.ones((2, 3)), requires_grad=True)
    (w.T * 2).sum().backward()  # the transposed gradient is a view: the leaf owns a copy
    assert w.grad.flags.writeable and w.grad.base is None


def test_saved_forward_arrays_are_not_mutated_by_backward():
    x = Tensor(np.random.default_rng(1).standard_normal((4, 3)), requires_grad=True)
    out = (x.relu() * x.sigmoid()).log_softmax().max(axis=0) + x[[0, 0, 1]].sum()
    saved = []

    def collect(t):
        if t.op is not None:
            kept = [a for a in t.op.saved_tensors if a is not None]  # None: not needed for these gradients
            saved.extend(a.copy() for a in kept)
            saved_arrays.extend(kept)
            for p in t.op.parents:
                collect(p)

    saved_arrays: list[np.ndarray] = []
    collect(out)
    out.backward(np.ones(out.shape), retain_graph=True)
    for before, after in zip(saved, saved_arrays):
        np.testing.assert_array_equal(before, after)


def test_graph_has_no_reference_cycles():
    gc.collect()
    gc.disable()
    try:
        w = Tensor(np.ones((8, 4)), requires_grad=True)
        loss = (Tensor(np.ones((2, 8))) @ w).relu().log_softmax().mean()
        loss.backward()
        del loss, w
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_zero_upstream_gradient_does_not_leak_nan_through_where():
    x = Tensor([0.0, 1.0, 4.0], requires_grad=True)
    with np.errstate(divide="ignore"):  # the forward of the discarded branch is -inf or inf at 0
        branches = (x.log(), x.sqrt(), 1 / x, x**0.5, x**-1.0)
    for branch in branches:
        x.zero_grad()
        tg.where(x > 0, branch, 0.0).sum().backward()
        assert np.all(np.isfinite(x.grad)), x.grad
        assert x.grad[0] == 0


def test_exp_overflow_in_discarded_branch_does_not_leak_nan():
    x = Tensor([1000.0, 0.0], requires_grad=True)
    with np.errstate(over="ignore"):
        tg.where(x < 10, x.exp(), 0.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0])


# ---------------------------------------------------------------- kink conventions


def grad_of(fn, values):
    x = Tensor(values, dtype=np.float64, requires_grad=True)
    fn(x).sum().backward()
    return x.grad


def test_conventions_at_non_differentiable_points():
    np.testing.assert_array_equal(grad_of(lambda x: x.relu(), [-1.0, 0.0, 2.0]), [0, 0, 1])
    np.testing.assert_array_equal(grad_of(lambda x: x.abs(), [-1.0, 0.0, 2.0]), [-1, 0, 1])
    np.testing.assert_array_equal(grad_of(lambda x: x.leaky_relu(0.1), [-1.0, 0.0, 2.0]), [0.1, 0.1, 1])
    clip_grad = grad_of(lambda x: x.clip(0.0, 1.0), [-1.0, 0.0, 0.5, 1.0, 2.0])
    np.testing.assert_array_equal(clip_grad, [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(grad_of(lambda x: x.maximum(1.0), [1.0, 2.0]), [0.5, 1])
    np.testing.assert_array_equal(grad_of(lambda x: x.minimum(1.0), [1.0, 2.0]), [0.5, 0])


def test_max_and_min_ties_split_the_gradient_evenly():
    np.testing.assert_allclose(grad_of(lambda x: x.max(), [3.0, 1.0, 3.0, 3.0]), [1 / 3, 0, 1 / 3, 1 / 3])
    g = grad_of(lambda x: x.min(axis=1), [[1.0, 1.0], [2.0, 5.0]])
    np.testing.assert_allclose(g, [[0.5, 0.5], [1, 0]])


# ---------------------------------------------------------------- numerics


def test_softmax_is_stable_per_row():
    logits = Tensor([[1e4, -1e4, 0.0], [1.0, -1.0, 0.5]], requires_grad=True)
    p = logits.softmax()
    logp = logits.log_softmax()
    assert np.all(np.isfinite(p.data)) and np.all(np.isfinite(logp.data))
    np.testing.assert_allclose(p.data.sum(axis=1), [1, 1], rtol=1e-6)
    expected_row2 = np.exp([1.0, -1.0, 0.5]) / np.exp([1.0, -1.0, 0.5]).sum()
    np.testing.assert_allclose(p.data[1], expected_row2, rtol=1e-5)
    (logp * Tensor([[1.0, 0, 0], [0, 1, 0]])).sum().backward()
    assert np.all(np.isfinite(logits.grad))
    assert np.isfinite(logits.logsumexp(axis=1).data).all()


def test_sigmoid_saturates_without_overflow():
    x = Tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
    s = x.sigmoid()
    np.testing.assert_allclose(s.data, [0.0, 0.5, 1.0])
    s.sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.25, 0.0])


# ---------------------------------------------------------------- graph recording


def test_no_grad_as_context_and_decorator():
    w = Tensor([1.0], requires_grad=True)
    with tg.no_grad():
        y = w * 2
        assert not tg.is_grad_enabled()
        with tg.enable_grad():
            assert (w * 2).requires_grad
    assert not y.requires_grad and y.op is None and tg.is_grad_enabled()

    @tg.no_grad()
    def evaluate(t):
        return t * 3

    assert not evaluate(w).requires_grad


def test_detach_cuts_the_graph():
    w = Tensor([2.0], requires_grad=True)
    (w * w.detach()).sum().backward()
    np.testing.assert_array_equal(w.grad, [2.0])
    assert not w.detach().requires_grad


# ---------------------------------------------------------------- errors name the operation and shapes


def test_broadcast_error_names_operation_and_shapes():
    with pytest.raises(ValueError, match=r"add.*\(3, 4\).*\(5,\)"):
        Tensor(np.ones((3, 4))) + Tensor(np.ones(5))
    with pytest.raises(ValueError, match=r"<.*\(3, 4\).*\(2,\)"):
        _ = Tensor(np.ones((3, 4))) < np.ones(2)


def test_linear_errors_name_the_shapes_and_what_they_must_be():
    w = Tensor(np.ones((3, 4)), requires_grad=True)
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 5\) and weight of shape \(3, 4\).*\(4\)"):
        linear(Tensor(np.ones((2, 5))), w, Tensor(np.zeros(3)))
    with pytest.raises(ValueError, match=r"linear: bias of shape \(4,\).*must have shape \(3,\)"):
        linear(Tensor(np.ones((2, 4))), w, Tensor(np.zeros(4)))
    with pytest.raises(ValueError, match="linear"):
        linear(Tensor(np.ones(4)), Tensor(np.ones(4)))


def test_linear_takes_one_sample_batches_of_batches_and_no_bias():
    w, b = Tensor(np.arange(12.0).reshape(3, 4)), Tensor([1.0, 2.0, 3.0])
    for shape in [(4,), (2, 4), (2, 5, 4)]:
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        np.testing.assert_allclose(linear(x, w, b).data, x @ w.data.T + b.data, rtol=1e-6)
        np.testing.assert_allclose(linear(x, w).data, x @ w.data.T, rtol=1e-6)


def test_matmul_error_names_shapes_and_fix():
    with pytest.raises(ValueError, match=r"matmul.*\(3, 4\).*\(5, 2\).*\.T"):
        Tensor(np.ones((3, 4))) @ Tensor(np.ones((5, 2)))
    with pytest.raises(ValueError, match="at least 1-D"):
        Tensor(2.0) @ Tensor([1.0])


def test_shape_errors_are_explained():
    x = Tensor(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"reshape.*\(3, 4\).*12 elements"):
        x.reshape(5, 2)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        x.sum(axis=2)
    with pytest.raises(ValueError, match="permutation"):
        Tensor(np.ones((2, 3, 4))).permute(0, 1)
    with pytest.raises(IndexError, match=r"index.*\(3, 4\)"):
        x[5]
    with pytest.raises(IndexError, match="integer or boolean"):
        x[np.array([0.5])]
    with pytest.raises(ValueError, match="do not fit together"):
        tg.cat([x, Tensor(np.ones((3, 5)))])
    with pytest.raises(ValueError, match="same shape"):
        tg.stack([x, Tensor(np.ones((3, 5)))])
    with pytest.raises(TypeError, match="boolean"):
        tg.where(np.ones(3), x[0, :3], 0.0)
    with pytest.raises(TypeError, match="cannot combine"):
        x + "a"


def test_leaves_never_share_a_gradient_array_even_from_a_custom_function():
    class AddWithSharedGradient(tg.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            fresh = grad * 1.0
            return fresh, fresh[...]  # the same memory for both inputs

    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    AddWithSharedGradient.apply(a, b).sum().backward()
    assert not np.shares_memory(a.grad, b.grad)


def test_weight_gradient_through_a_transpose_is_contiguous():
    """x @ W.T (every Linear layer) gives W a C-contiguous gradient of its own."""
    w = Tensor(np.ones((3, 4)), requires_grad=True)
    (Tensor(np.ones((2, 4))) @ w.T).sum().backward()
    assert w.grad.flags.c_contiguous and w.grad.flags.writeable and w.grad.shape == (3, 4)


def test_as_tensor_shares_an_array_of_the_right_dtype():
    batch = np.ones((2, 3), dtype=np.float32)
    assert np.shares_memory(tg.as_tensor(batch).data, batch)
    assert tg.as_tensor(np.ones(2)).dtype == np.float32  # float64 is converted to the default dtype
    t = Tensor([1.0])
    assert tg.as_tensor(t) is t


def test_backward_visits_each_tensor_after_every_tensor_computed_from_it():
    w = Tensor([1.0, 2.0], requires_grad=True)
    a = w * 2.0
    b = Tensor([3.0, 4.0], requires_grad=True)  # a leaf created after an operation
    loss = ((a + b) * a).sum()  # fan-out: a is used twice
    order = topological_order(loss)
    position = {id(t): i for i, t in enumerate(order)}
    assert len(position) == 6 and order[0] is loss
    for tensor in order:
        for parent in tensor.op.parents if tensor.op is not None else ():
            if parent.requires_grad:
                assert position[id(parent)] > position[id(tensor)]
    visited = []
    run_backward(loss, np.ones((), np.float32), on_step=lambda tensor, *_: visited.append(id(tensor)))
    assert visited == [id(t) for t in order if t.op is not None]
    np.testing.assert_allclose(w.grad, 4 * (2 * w.data) + 2 * b.data)


def test_a_scalar_parameter_gets_an_array_gradient_also_when_gradients_add_up():
    """NumPy makes the sum of two 0-d arrays a scalar (numpy.float32); a 0-d parameter used twice, or
    through two backward calls, got such a .grad, which every optimizer then refused."""
    b = Tensor(2.0, requires_grad=True)  # a scalar bias, micrograd style
    (b * b).backward()  # two paths into b
    assert type(b.grad) is np.ndarray and b.grad.shape == () and b.grad == 4.0
    (b * 3.0).backward()  # accumulates onto the first gradient
    assert type(b.grad) is np.ndarray and b.grad == 7.0
    h = b * 2.0
    (h * h + h).backward()  # an intermediate reached twice
    assert type(h.grad) is np.ndarray and h.grad == 9.0
    nn.optim.SGD([b], lr=0.1).step()
    assert type(b.data) is np.ndarray and b.data.shape == ()
