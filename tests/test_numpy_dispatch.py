"""NumPy functions called with Tensors: the same values as NumPy, gradients equal to finite differences.

Each case is one function written as a user writes NumPy code; it runs once on
plain arrays (NumPy's own answer) and once on float64 Tensors (our answer and
our gradient, checked against central differences).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tests.gradients import assert_gradients_match
from tinygrad_edu import Tensor

SETTINGS = settings(max_examples=6, deadline=None)
seeds = st.integers(0, 2**16)


def values(shape, seed, positive=False, away_from_zero=False):
    x = np.random.default_rng(seed).standard_normal(shape)
    if positive:
        return np.abs(x) + 0.3
    if away_from_zero:
        return np.sign(x) * (np.abs(x) + 0.2) + (x == 0) * 0.5
    return x


def check(fn, *arrays, grad=True):
    """fn on Tensors equals fn on arrays (NumPy), and its gradient equals finite differences."""
    expected = fn(*arrays)
    out = fn(*[Tensor(a, dtype=np.float64) for a in arrays])
    assert isinstance(out, Tensor), f"got {type(out).__name__}, not a Tensor"
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    if grad:
        assert_gradients_match(fn, *arrays)


# ---------------------------------------------------------------- ufuncs


BINARY_UFUNCS = {
    "add": (np.add, {}),
    "subtract": (np.subtract, {}),
    "multiply": (np.multiply, {}),
    "divide": (np.divide, {"b_away": True}),
    "true_divide": (np.true_divide, {"b_away": True}),
    "power": (np.power, {"a_positive": True}),
    "maximum": (np.maximum, {}),
    "minimum": (np.minimum, {}),
    "logaddexp": (np.logaddexp, {}),
}


@pytest.mark.parametrize("name", sorted(BINARY_UFUNCS))
@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3), seed=seeds)
def test_binary_ufuncs_broadcast(name, shapes, seed):
    ufunc, opts = BINARY_UFUNCS[name]
    a = values(shapes.input_shapes[0], seed, positive=opts.get("a_positive", False))
    b = values(shapes.input_shapes[1], seed + 1, away_from_zero=opts.get("b_away", False))
    check(ufunc, a, b)
    check(lambda t: ufunc(t, b), a)  # Tensor and array
    check(lambda t: ufunc(a, t), b)  # array and Tensor
    check(lambda t: ufunc(t, 1.5), a)  # Tensor and Python number
    check(lambda t: ufunc(1.5, t), np.abs(b) + 0.3 if name == "power" else b)


UNARY_UFUNCS = {
    "negative": (np.negative, {}),
    "square": (np.square, {}),
    "sqrt": (np.sqrt, {"positive": True}),
    "exp": (np.exp, {}),
    "log": (np.log, {"positive": True}),
    "log1p": (np.log1p, {"positive": True}),
    "expm1": (np.expm1, {}),
    "abs": (np.abs, {"away_from_zero": True}),
    "absolute": (np.absolute, {"away_from_zero": True}),
    "tanh": (np.tanh, {}),
    "sin": (np.sin, {}),
    "cos": (np.cos, {}),
}


@pytest.mark.parametrize("name", sorted(UNARY_UFUNCS))
@SETTINGS
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4), seed=seeds)
def test_unary_ufuncs(name, shape, seed):
    ufunc, opts = UNARY_UFUNCS[name]
    check(ufunc, values(shape, seed, **opts))


def test_log1p_and_expm1_keep_numpys_precision_for_tiny_inputs():
    x = np.array([1e-10, -3e-9, 2e-12])
    for ufunc in (np.log1p, np.expm1):
        out = ufunc(Tensor(x, dtype=np.float64, requires_grad=True))
        np.testing.assert_allclose(out.data, ufunc(x), rtol=1e-15)
    assert np.log1p(Tensor(x, requires_grad=True)).composite.name == "log1p"


def test_logaddexp_is_finite_where_exp_overflows():
    a, b = np.array([1000.0, -1000.0, -np.inf]), np.array([999.0, -1001.0, 0.0])
    out = np.logaddexp(Tensor(a, dtype=np.float64, requires_grad=True), b)
    np.testing.assert_allclose(out.data, np.logaddexp(a, b))


COMPARISONS = ["greater", "greater_equal", "less", "less_equal", "equal", "not_equal"]


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparisons_give_boolean_tensors_outside_the_graph(name):
    ufunc = getattr(np, name)
    a = np.array([[1.0, 2.0, 3.0]])
    b = np.array([[2.0], [3.0]])
    t = Tensor(a, requires_grad=True)
    for out, expected in [(ufunc(t, b), ufunc(a, b)), (ufunc(b, t), ufunc(b, a)), (ufunc(t, 2.0), ufunc(a, 2.0))]:
        assert isinstance(out, Tensor) and out.dtype == np.bool_
        assert not out.requires_grad and out.op is None
        np.testing.assert_array_equal(out.data, expected)


def test_logical_ufuncs_combine_masks():
    x = Tensor([-2.0, -0.5, 0.5, 2.0], requires_grad=True)
    inside = np.logical_and(x > -1, x < 1)
    np.testing.assert_array_equal(inside.data, [False, True, True, False])
    np.testing.assert_array_equal(np.logical_or(x < -1, x > 1).data, [True, False, False, True])
    np.testing.assert_array_equal(np.logical_not(inside).data, [True, False, False, True])
    assert not inside.requires_grad
    np.testing.assert_array_equal(np.isfinite(x * np.array([1, np.inf, 1, np.nan])).data, [1, 0, 1, 0])


def test_operators_with_numpy_on_the_left_give_tensors_of_the_tensors_dtype():
    w = Tensor(np.ones((3, 2)), requires_grad=True)  # float32
    a = np.arange(6.0).reshape(2, 3)  # float64
    for out in (a @ w, np.ones((3, 2)) * w, np.ones(2) + w, 2.0 * w, np.float64(2.0) * w, np.ones(2) - w):
        assert isinstance(out, Tensor) and out.dtype == np.float32 and out.requires_grad
    np.testing.assert_allclose((a @ w).data, a @ np.ones((3, 2)))
    np.testing.assert_allclose((np.ones(2) / (w + 1)).data, np.full((3, 2), 0.5))


def test_calls_without_tensors_stay_numpy():
    a = np.arange(4.0)
    assert type(np.exp(a)) is np.ndarray and type(np.sum(a)) is np.float64
    assert type(np.insert(a, 0, 1)) is np.ndarray


# ---------------------------------------------------------------- functions


A23, B34, V3 = values((2, 3), 0), values((3, 4), 1), values(3, 2)


@pytest.mark.parametrize(
    "fn, arrays",
    [
        (np.dot, (A23, B34)),
        (np.dot, (V3, V3)),
        (np.dot, (A23, V3)),
        (np.dot, (V3, B34)),
        (np.dot, (np.array(2.5), A23)),
        (np.dot, (values((2, 2, 3), 3), B34)),
        (np.matmul, (values((2, 2, 3), 3), B34)),
        (np.matmul, (V3, B34)),
        (np.outer, (V3, A23)),
    ],
    ids=["dot-2d", "dot-1d", "dot-2d-1d", "dot-1d-2d", "dot-scalar", "dot-3d-2d", "matmul-3d", "matmul-1d", "outer"],
)
def test_products(fn, arrays):
    check(fn, *arrays)
    check(lambda t: fn(t, arrays[1]), arrays[0])  # mixed: the array on the right
    check(lambda t: fn(arrays[0], t), arrays[1])  # and on the left (np.dot(W, a) with W an array)


@pytest.mark.parametrize("arrays", [(A23, B34), (V3, V3), (np.array(2.0), V3), (values((2, 2, 3), 3), B34)])
def test_tensor_dot_method_is_numpy_dot(arrays):
    check(lambda a, b: a.dot(b), *arrays)
    check(lambda t: t.dot(arrays[1]), arrays[0])


def test_dot_with_a_3d_right_operand_is_a_clear_error():
    with pytest.raises(TypeError, match=r"np.dot .* np.matmul"):
        np.dot(Tensor(A23), Tensor(values((2, 3, 4), 0)))


@st.composite
def shape_and_axis(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    ndim = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                          st.lists(st.integers(0, ndim - 1), unique=True, min_size=1, max_size=ndim).map(tuple)))
    return shape, axis


REDUCTIONS = {
    "sum": lambda x, **kw: np.sum(x, **kw),
    "mean": lambda x, **kw: np.mean(x, **kw),
    "max": lambda x, **kw: np.max(x, **kw),
    "amax": lambda x, **kw: np.amax(x, **kw),
    "min": lambda x, **kw: np.min(x, **kw),
    "amin": lambda x, **kw: np.amin(x, **kw),
    "var": lambda x, **kw: np.var(x, **kw),
    "std": lambda x, **kw: np.std(x, **kw),
    "var-ddof": lambda x, **kw: np.var(x, ddof=1, **kw),
    "std-ddof": lambda x, **kw: np.std(x, ddof=1, **kw),
    "norm": lambda x, **kw: np.linalg.norm(x, **kw),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@SETTINGS
@given(case=shape_and_axis(), keepdims=st.booleans(), seed=seeds)
def test_reductions_with_axis_and_keepdims(name, case, keepdims, seed):
    shape, axis = case
    if name == "norm" and (isinstance(axis, tuple) and len(axis) > 2 or axis is None and len(shape) > 2):
        axis = -1  # NumPy's norm takes one or two axes
    x = values(shape, seed, positive=name == "norm")  # norm: away from its kink at 0
    count = np.prod(np.array(shape)[list(np.atleast_1d(axis))]) if axis is not None else np.prod(shape)
    if (name.endswith("ddof") or name == "std") and count < 2:
        return  # ddof: no degrees of freedom left; std: sqrt at 0 (its derivative is infinite)
    check(lambda t: REDUCTIONS[name](t, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("ord, axis", [(None, None), (2, None), (1, None), (np.inf, None), (-np.inf, None),
                                        (3, None), ("fro", (0, 1)), (None, (0, 1)), (1, 0), (2, 1)])
def test_norm_orders(ord, axis):
    x = values((3, 4) if axis is not None else (5,), 7, away_from_zero=True)
    check(lambda t: np.linalg.norm(t, ord=ord, axis=axis), x)


def test_norm_orders_that_need_an_svd_are_a_clear_error():
    with pytest.raises(TypeError, match="norm: ord=2 over a matrix"):
        np.linalg.norm(Tensor(A23, requires_grad=True), ord=2)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), (-1, False)])
def test_argmax_argmin_give_indices_without_gradient(name, axis, keepdims):
    x = values((3, 4), 5)
    out = getattr(np, name)(Tensor(x, requires_grad=True), axis=axis, keepdims=keepdims)
    assert isinstance(out, Tensor) and out.dtype.kind == "i" and not out.requires_grad
    np.testing.assert_array_equal(out.data, getattr(np, name)(x, axis=axis, keepdims=keepdims))


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3), seed=seeds)
def test_where_broadcasts_condition_and_branches(shapes, seed):
    c_shape, a_shape, b_shape = shapes.input_shapes
    cond = values(c_shape, seed) > 0
    a, b = values(a_shape, seed + 1), values(b_shape, seed + 2)
    check(lambda x, y: np.where(cond, x, y), a, b)
    check(lambda x: np.where(cond, x, 0.0), a)
    check(lambda x: np.where(x > 0, x, 0.01 * x), values(a_shape, seed + 3, away_from_zero=True))


def test_where_with_one_argument_gives_the_indices():
    x = Tensor([[0.0, 1.5], [-2.0, 0.0]], requires_grad=True)
    rows, cols = np.where(x != 0)
    np.testing.assert_array_equal(rows.data, [0, 1])
    np.testing.assert_array_equal(cols.data, [1, 0])


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: np.clip(x, -0.5, 0.5),
        lambda x: np.clip(x, None, 0.5),
        lambda x: np.clip(x, -0.5, None),
        lambda x: np.clip(x, np.array([-1.0, -0.2, 0.0, -0.5]), 0.6),
        lambda x: np.clip(x, a_min=-0.3, a_max=np.full(4, 0.4)),
    ],
    ids=["numbers", "upper", "lower", "array-lower", "array-upper"],
)
def test_clip(fn):
    x = np.array([[-1.3, -0.35, 0.1, 0.45], [0.9, -0.05, 0.7, -0.8]])
    check(fn, x)


def test_clip_with_tensor_bounds_gives_the_bounds_their_gradient():
    check(lambda x, low: np.clip(x, low, 2.0), np.array([-1.0, 0.5, 3.0]), np.array([0.0, 0.0, 0.0]))


def test_nan_to_num():
    x = np.array([1.0, np.nan, np.inf, -np.inf, -2.0])
    check(lambda t: np.nan_to_num(t), x, grad=False)
    check(lambda t: np.nan_to_num(t, nan=-1.0, posinf=5.0, neginf=-5.0), x, grad=False)
    t = Tensor(x, dtype=np.float64, requires_grad=True)
    (np.nan_to_num(t, posinf=9.0, neginf=-9.0) * 3).sum().backward()
    np.testing.assert_array_equal(t.grad, [3.0, 0.0, 0.0, 0.0, 3.0])


@pytest.mark.parametrize(
    "fn, shape",
    [
        (lambda x: np.reshape(x, (3, 2)), (2, 3)),
        (lambda x: np.reshape(x, -1), (2, 3)),
        (lambda x: np.transpose(x), (2, 3, 4)),
        (lambda x: np.transpose(x, (1, 0, 2)), (2, 3, 4)),
        (lambda x: np.transpose(x, axes=[2, 0, 1]), (2, 3, 4)),
        (lambda x: np.expand_dims(x, 0), (2, 3)),
        (lambda x: np.expand_dims(x, axis=(0, -1)), (2, 3)),
        (lambda x: np.squeeze(x), (1, 3, 1)),
        (lambda x: np.squeeze(x, axis=0), (1, 3, 1)),
        (lambda x: np.concatenate([x, 2 * x], axis=1), (2, 3)),
        (lambda x: np.concatenate((x, np.ones((1, 3)))), (2, 3)),
        (lambda x: np.concatenate([x, x], axis=None), (2, 3)),
        (lambda x: np.stack([x, 3 * x, np.ones((2, 3))], axis=1), (2, 3)),
        (lambda x: np.hstack([x, x * x]), (4,)),
        (lambda x: np.hstack([np.ones((2, 1)), x]), (2, 3)),
        (lambda x: np.vstack([x, np.zeros(3)]), (3,)),
        (lambda x: np.vstack([x, x]), (2, 3)),
        (lambda x: np.insert(x, 0, 1, axis=1), (4, 3)),  # a bias column of ones
        (lambda x: np.insert(x, 0, 1.0, axis=0), (4, 3)),  # a bias row
        (lambda x: np.insert(x, [1, 3], [7.0, 8.0]), (4, 3)),  # flattened, several positions
        (lambda x: np.insert(x, 2, np.arange(4.0), axis=1), (4, 3)),
        (lambda x: np.insert(x, slice(0, 2), -1.0, axis=1), (4, 3)),
        (lambda x: np.delete(x, 0, axis=1), (4, 3)),  # drop the bias column
        (lambda x: np.delete(x, [0, 2], axis=0), (4, 3)),
        (lambda x: np.delete(x, 5), (4, 3)),
        (lambda x: np.append(x, np.ones((4, 1)), axis=1), (4, 3)),
        (lambda x: np.append(np.ones(2), x), (4, 3)),
        (lambda x: np.ravel(x), (4, 3)),
        (lambda x: np.zeros_like(x) + x, (2, 3)),
        (lambda x: np.full_like(x, 2.0) * x, (2, 3)),
        (lambda x: np.ones_like(x) * x, (2, 3)),
    ],
)
def test_shape_functions(fn, shape):
    check(fn, values(shape, 11))


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), data=st.data(), seed=seeds)
def test_insert_and_delete_at_any_position_and_axis(shape, data, seed):
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    length = int(np.prod(shape)) if axis is None else shape[axis]
    position = data.draw(st.integers(0, length))
    positions = data.draw(st.lists(st.integers(0, length - 1), min_size=1, max_size=3))
    x = values(shape, seed)
    check(lambda t: np.insert(t, position, 2.5, axis=axis), x)
    check(lambda t, v: np.insert(t, position, v, axis=axis), x, values((), seed + 1))
    check(lambda t: np.delete(t, positions, axis=axis), x)


def test_insert_with_tensor_values_gives_them_their_gradient():
    # theta with a bias row: the row is a parameter too
    check(lambda w, b: np.insert(w, 0, b, axis=0), values((3, 2), 0), values(2, 1))
    check(lambda x, w: np.insert(x, 0, 1, axis=1) @ w, values((5, 3), 2), values((4, 2), 3))


def test_zeros_like_and_ones_like_are_constants_of_the_same_dtype():
    t = Tensor(np.ones((2, 3)), requires_grad=True)
    z, o = np.zeros_like(t), np.ones_like(t, dtype=np.dtype("float64"))
    assert isinstance(z, Tensor) and z.dtype == np.float32 and not z.requires_grad and z.shape == (2, 3)
    assert o.dtype == np.float64 and o.data.sum() == 6


def test_function_results_match_the_methods_and_operators():
    x = Tensor(values((2, 3), 4), requires_grad=True)
    w = values((3, 2), 5)
    pairs = [(np.transpose(x), x.T), (np.matmul(x, w), x @ w), (np.dot(x, w), x.dot(w)),
             (np.sum(x, axis=0), x.sum(axis=0)), (np.maximum(x, 0), x.maximum(0)), (np.exp(x), x.exp())]
    for function_result, method_result in pairs:
        assert function_result.dtype == method_result.dtype
        np.testing.assert_array_equal(function_result.data, method_result.data)
        assert type(function_result.op) is type(method_result.op)


def test_a_network_written_in_numpy_runs_unchanged_on_tensors():
    def forward(X, W1, b1, W2, b2):
        z1 = np.dot(X, W1) + b1
        a1 = np.maximum(0, z1)
        z2 = a1 @ W2 + b2
        e = np.exp(z2 - np.max(z2, axis=1, keepdims=True))
        p = e / np.sum(e, axis=1, keepdims=True)
        return -np.mean(np.log(p[np.arange(4), [0, 1, 2, 1]]))

    arrays = [values((4, 3), 0), values((3, 5), 1), values(5, 2), values((5, 3), 3), values(3, 4)]
    check(lambda *params: forward(arrays[0], *params), *arrays[1:])


# ---------------------------------------------------------------- conversions


def test_asarray_gives_the_values_of_a_tensor_without_grad():
    t = Tensor([[1.0, 2.0]])
    np.testing.assert_array_equal(np.asarray(t), [[1.0, 2.0]])
    assert np.array(t, dtype=np.float64).dtype == np.float64
    assert np.asarray(t).dtype == np.float32


@pytest.mark.parametrize(
    "convert",
    [np.asarray, np.array, lambda t: np.array([t, t]), lambda t: np.mean([np.sum(t)]),
     lambda t: np.random.default_rng(0).normal(np.sum(t)), lambda t: np.ones((2, 2)).dot(t),
     lambda t: np.float64(1.0) + np.array(t)],
    ids=["asarray", "array", "array-of-list", "mean-of-list", "random", "ndarray.dot", "array-then-add"],
)
def test_converting_a_tensor_that_requires_grad_is_a_clear_error(convert):
    t = Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(TypeError, match=r"requires grad .* drop its graph .*test_numpy_dispatch"):
        convert(t)


def test_a_method_of_a_plain_array_on_a_constant_tensor_gives_the_right_values():
    theta = Tensor(values((3, 2), 0))
    a1 = values((4, 3), 1)
    np.testing.assert_allclose(a1.dot(theta), a1.dot(theta.data))


def test_weight_decay_sum_over_a_list_of_tensors_is_a_tensor():
    weights = [None, Tensor(values((3, 4), 0), requires_grad=True), Tensor(values((4, 2), 1), requires_grad=True)]
    penalty = np.sum([np.sum(w) for w in weights[1:]])
    assert isinstance(penalty, Tensor) and penalty.shape == ()
    np.testing.assert_allclose(penalty.item(), sum(w.data.sum() for w in weights[1:]), rtol=1e-6)
    squares = np.sum([np.sum(w**2) for w in weights[1:]]) + 0.5
    squares.backward()
    np.testing.assert_allclose(weights[1].grad, 2 * weights[1].data, rtol=1e-6)
    mixed = np.sum([np.sum(weights[1]), 2.0, Tensor([1.5], requires_grad=True)])
    np.testing.assert_allclose(mixed.item(), weights[1].data.sum() + 3.5, rtol=1e-6)


def test_sums_over_lists_of_constant_tensors_are_numpys():
    c = Tensor(np.ones((2, 2)))
    assert np.sum([c, c]) == 8.0
    total = np.sum([np.sum(c), np.sum(c)])
    assert isinstance(total, Tensor) and total.item() == 8.0


def test_copy_keeps_a_tensor_in_its_graph():
    w = Tensor([1.0, 2.0], requires_grad=True)
    (np.copy(w) * 3).sum().backward()
    np.testing.assert_array_equal(w.grad, [3.0, 3.0])
    c = Tensor([1.0, 2.0])
    copied = np.copy(c)
    copied.data[0] = 5.0
    assert c.data[0] == 1.0


def test_other_sums_over_lists_of_tensors_are_clear_errors():
    w = Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(TypeError, match="one-element Tensors"):
        np.sum([w, w])
    with pytest.raises(TypeError, match="drop its graph"):
        np.sum([np.sum(w), np.sum(w)], axis=0, keepdims=True)


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda t: np.prod(t), r"np.prod is not supported .* np.exp\(np.sum\(np.log"),
        (lambda t: np.cumsum(t), "np.cumsum is not supported"),
        (lambda t: np.linalg.svd(t), "np.linalg.svd is not supported"),
        (lambda t: np.arctan(t), "np.arctan is not supported"),
        (lambda t: np.log10(t), r"np.log10 is not supported .* np.log\(x\) / np.log\(10\)"),
        (lambda t: np.add.reduce(t), r"np.add.reduce is not supported .*np.sum"),
        (lambda t: np.sum(t, dtype=np.float64), r"np.sum\(..., dtype="),
        (lambda t: np.exp(t, where=np.ones((2, 2), bool)), r"np.exp\(..., where="),
        (lambda t: np.clip(t, 0, 1, casting="unsafe"), r"np.clip: got an unexpected keyword argument 'casting'"),
        (lambda t: np.exp(t, out=np.empty((2, 2))), r"np.exp\(..., out=array\)"),
        (lambda t: np.maximum(t, 0, out=t), r"np.maximum\(..., out=tensor\) writes into a Tensor in place"),
        (lambda t: np.sum(t, axis=0, out=np.empty(2)), r"np.sum\(..., out=array\)"),
    ],
)
def test_unsupported_calls_are_type_errors_naming_the_function(call, message):
    with pytest.raises(TypeError, match=message):
        call(Tensor(np.ones((2, 2)), requires_grad=True))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda t: np.squeeze(t, axis=0), ValueError, r"np.squeeze on a Tensor of shape \(2, 3\): cannot select"),
        (lambda t: np.insert(t, 7, 1, axis=1), IndexError, r"np.insert on a Tensor of shape \(2, 3\): index 7"),
        (lambda t: np.delete(t, 3, axis=0), IndexError, r"np.delete on a Tensor of shape \(2, 3\)"),
        (lambda t: np.sum(t, axis=2), ValueError, "sum: axis 2 is out of range"),
        (lambda t: np.dot(t, np.ones((2, 2))), ValueError, r"matmul: shapes \(2, 3\) and \(2, 2\) do not fit"),
    ],
)
def test_bad_arguments_name_the_function_and_the_shape(call, error, message):
    with pytest.raises(error, match=message):
        call(Tensor(np.ones((2, 3)), requires_grad=True))


def test_adding_a_tensor_into_a_plain_array_in_place_is_refused():
    total = np.zeros((2, 2))
    with pytest.raises(TypeError, match=r"array \+= tensor"):
        total += Tensor(np.ones((2, 2)), requires_grad=True)


def test_writing_into_a_tensor_that_requires_grad_is_refused():
    a = Tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="cannot write into a Tensor that requires grad"):
        a[a < 0] = 0
    h = a * 2
    with pytest.raises(RuntimeError, match=r"np.where\(a < 0, 0, a\)"):
        h[0] = 1.0
    np.testing.assert_array_equal(a.data, [-1.0, 2.0])


def test_writing_into_a_constant_tensor_is_refused_too():
    # a constant may have been saved for backward: w * x keeps x's values
    w, x = Tensor([1.0, 1.0], requires_grad=True), Tensor([2.0, 3.0])
    y = w * x
    with pytest.raises(RuntimeError, match=r"saved its values for backward"):
        x[0] = 5.0
    y.sum().backward()
    np.testing.assert_array_equal(w.grad, [2.0, 3.0])


def test_options_at_their_defaults_are_accepted():
    t = Tensor(values((2, 3), 0), requires_grad=True)
    np.testing.assert_allclose(np.sum(t, where=True, out=None).data, np.sum(t.data), rtol=1e-6)
    np.testing.assert_allclose(np.exp(t, out=None, casting="same_kind").data, np.exp(t.data), rtol=1e-6)


def test_new_composites_are_recorded_with_their_options():
    from tinygrad_edu.autograd import topological_order

    x = Tensor(values((2, 3), 0), requires_grad=True)
    cases = [
        (np.linalg.norm(x, ord=1, axis=1), "norm(ord=1, axis=1, keepdims=False)"),
        (np.logaddexp(x, 0.5), "logaddexp(other=0.5)"),
        (np.nan_to_num(x), "nan_to_num(nan=0.0, posinf=None, neginf=None)"),
        (np.expm1(x), "expm1"),
        (np.log1p(np.abs(x)), "log1p"),
    ]
    for out, label in cases:
        assert out.composite.label() == label
        assert all(t.op is None or type(t.op) in tg.PRIMITIVES for t in topological_order(out))


def test_dispatch_records_the_graph_through_primitives_and_composites():
    x = Tensor(values((2, 3), 0), requires_grad=True)
    assert np.sum(x).op.name == "sum"
    assert np.exp(x).op.name == "exp"
    assert np.sqrt(np.abs(x)).composite.name == "sqrt"
    assert np.linalg.norm(x).composite.name == "norm"
    assert x.dot(x.T).op.name == "matmul"


def test_the_examples_of_docs_numpy_md_run():
    text = (Path(__file__).resolve().parents[1] / "docs" / "numpy.md").read_text()
    namespace: dict = {}
    for block in re.findall(r"```python\n(.*?)```", text, flags=re.S):
        exec(block, namespace)  # noqa: S102  (our own documentation)
    assert all(namespace[name].grad is not None for name in ("W1", "b1", "W2", "b2"))
    assert isinstance(namespace["penalty"], Tensor) and namespace["penalty"].requires_grad
