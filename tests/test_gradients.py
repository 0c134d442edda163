"""Every primitive and composite against central finite differences in float64.

Shapes come from hypothesis and cover every broadcasting direction and axis
choice; values are drawn away from kinks (0 for relu/abs, ties for max) so the
finite difference is meaningful. Kink conventions are tested in test_semantics.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tests.gradients import assert_gradients_match

SETTINGS = settings(max_examples=20, deadline=None)
seeds = st.integers(0, 2**16)
small_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def values(shape, seed, low=None, away_from_zero=False):
    """Seeded normal values; optionally positive (low) or kept away from 0."""
    x = np.random.default_rng(seed).standard_normal(shape)
    if away_from_zero:
        x = np.sign(x) * (np.abs(x) + 0.2) + (x == 0) * 0.5
    if low is not None:
        x = np.abs(x) + low
    return x


def pair_of_broadcastable_shapes():
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4)


BINARY = {
    "add": (lambda a, b: a + b, {}),
    "sub": (lambda a, b: a - b, {}),
    "mul": (lambda a, b: a * b, {}),
    "div": (lambda a, b: a / b, {"b_away": True}),
    "pow": (lambda a, b: a**b, {"a_positive": True}),
    "maximum": (lambda a, b: a.maximum(b), {}),
    "minimum": (lambda a, b: a.minimum(b), {}),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(shapes=pair_of_broadcastable_shapes(), seed=seeds)
def test_binary_ops_broadcast(name, shapes, seed):
    fn, opts = BINARY[name]
    a_shape, b_shape = shapes.input_shapes
    a = values(a_shape, seed, low=0.5 if opts.get("a_positive") else None)
    b = values(b_shape, seed + 1, away_from_zero=opts.get("b_away", False))
    if name == "pow":
        b = b * 0.5
    assert_gradients_match(fn, a, b)


UNARY = {
    "exp": (lambda x: x.exp(), {}),
    "log": (lambda x: x.log(), {"positive": True}),
    "sin": (lambda x: x.sin(), {}),
    "cos": (lambda x: x.cos(), {}),
    "tanh": (lambda x: x.tanh(), {}),
    "sqrt": (lambda x: x.sqrt(), {"positive": True}),
    "neg": (lambda x: -x, {}),
    "abs": (lambda x: x.abs(), {"kink_at_zero": True}),
    "relu": (lambda x: x.relu(), {"kink_at_zero": True}),
    "leaky_relu": (lambda x: x.leaky_relu(0.1), {"kink_at_zero": True}),
    "sigmoid": (lambda x: x.sigmoid(), {}),
    "clip": (lambda x: x.clip(-0.5, 0.5), {"clip": True}),
    "square": (lambda x: x**2, {}),
    "rsub": (lambda x: 2.0 - x, {}),
    "rdiv": (lambda x: 3.0 / x, {"kink_at_zero": True}),
    "rpow": (lambda x: 2.0**x, {}),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(shape=small_shapes, seed=seeds)
def test_unary_ops(name, shape, seed):
    fn, opts = UNARY[name]
    low = 0.3 if opts.get("positive") else None
    x = values(shape, seed, low=low, away_from_zero=opts.get("kink_at_zero"))
    if opts.get("clip"):  # keep away from the clip boundaries
        x = np.where(np.abs(np.abs(x) - 0.5) < 0.05, x + 0.2, x)
    assert_gradients_match(fn, x)


@st.composite
def shape_and_axis(draw, min_dims=1):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=4))
    ndim = len(shape)
    axis = draw(
        st.one_of(
            st.none(),
            st.integers(-ndim, ndim - 1),
            st.lists(st.integers(0, ndim - 1), unique=True, min_size=1, max_size=ndim).map(tuple),
        )
    )
    return shape, axis


REDUCTIONS = {
    "sum": lambda x, axis, keep: x.sum(axis=axis, keepdims=keep),
    "mean": lambda x, axis, keep: x.mean(axis=axis, keepdims=keep),
    "max": lambda x, axis, keep: x.max(axis=axis, keepdims=keep),
    "min": lambda x, axis, keep: x.min(axis=axis, keepdims=keep),
    "logsumexp": lambda x, axis, keep: x.logsumexp(axis=axis, keepdims=keep),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@SETTINGS
@given(case=shape_and_axis(), keepdims=st.booleans(), seed=seeds)
def test_reductions(name, case, keepdims, seed):
    shape, axis = case
    x = values(shape, seed)
    fn = REDUCTIONS[name]
    assert_gradients_match(lambda t: fn(t, axis, keepdims), x)
    np_fn = {"logsumexp": None, "sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min}[name]
    if np_fn is not None:
        out = fn(tg.Tensor(x, dtype=np.float64), axis, keepdims)
        np.testing.assert_allclose(out.data, np_fn(x, axis=axis, keepdims=keepdims))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=seeds, data=st.data())
def test_softmax_family(name, shape, seed, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = values(shape, seed) * 3
    assert_gradients_match(lambda t: getattr(t, name)(axis=axis), x)


@SETTINGS
@given(
    shapes=hnp.mutually_broadcastable_shapes(signature="(n?,k),(k,m?)->(n?,m?)", max_side=4),
    seed=seeds,
)
def test_matmul_numpy_semantics(shapes, seed):
    a_shape, b_shape = shapes.input_shapes
    a, b = values(a_shape, seed), values(b_shape, seed + 1)
    out = tg.Tensor(a, dtype=np.float64) @ tg.Tensor(b, dtype=np.float64)
    np.testing.assert_allclose(out.data, np.matmul(a, b))
    assert_gradients_match(lambda x, y: x @ y, a, b)


@SETTINGS
@given(
    batch=hnp.array_shapes(min_dims=0, max_dims=2, max_side=4),
    n_in=st.integers(1, 4),
    n_out=st.integers(1, 4),
    seed=seeds,
)
def test_linear_matches_finite_differences_and_its_three_primitive_expression(batch, n_in, n_out, seed):
    x, w, b = values((*batch, n_in), seed), values((n_out, n_in), seed + 1), values((n_out,), seed + 2)
    assert_gradients_match(lambda x, w, b: tg.linear(x, w, b), x, w, b)
    fused = [tg.Tensor(a, dtype=np.float64, requires_grad=True) for a in (x, w, b)]
    spelled = [tg.Tensor(a, dtype=np.float64, requires_grad=True) for a in (x, w, b)]
    out = tg.linear(*fused)
    assert type(out.op).__name__ == "Linear"
    upstream = np.random.default_rng(seed + 3).standard_normal(out.shape)
    out.backward(upstream)
    reference = spelled[0] @ spelled[1].T + spelled[2]
    reference.backward(upstream)
    np.testing.assert_allclose(out.data, reference.data, rtol=1e-12, atol=1e-12)
    for f, r in zip(fused, spelled):
        np.testing.assert_allclose(f.grad, r.grad, rtol=1e-12, atol=1e-12)


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=4), seed=seeds)
def test_where_broadcasts_all_three(shapes, seed):
    c_shape, a_shape, b_shape = shapes.input_shapes
    cond = np.random.default_rng(seed).random(c_shape) > 0.5
    a, b = values(a_shape, seed + 1), values(b_shape, seed + 2)
    assert_gradients_match(lambda x, y: tg.where(cond, x, y), a, b)


def test_shape_operations():
    x = values((2, 3, 4), 0)
    assert_gradients_match(lambda t: t.reshape(4, 6) * np.arange(24.0).reshape(4, 6), x)
    assert_gradients_match(lambda t: t.reshape(-1), x)
    assert_gradients_match(lambda t: t.transpose(2, 0, 1), x)
    assert_gradients_match(lambda t: t.transpose(), x)
    assert_gradients_match(lambda t: t.T, x)
    assert_gradients_match(lambda t: t.flatten(), x)
    assert_gradients_match(lambda t: t.flatten(1), x)


INDICES = [
    1,
    -1,
    slice(None, None, 2),
    (0, slice(1, 3)),
    (Ellipsis, 1),
    (None, 0),
    (slice(None), None, slice(None, 2)),
    np.array([0, 1, 1, 0]),  # repeated: gradients accumulate
    (np.array([0, 1, 1]), np.array([2, 2, 0])),
    (slice(None), np.array([1, 1])),
]


@pytest.mark.parametrize("index", INDICES, ids=[repr(i) for i in INDICES])
def test_getitem(index):
    x = values((2, 3, 4), 1)
    out = tg.Tensor(x, dtype=np.float64)[index]
    np.testing.assert_array_equal(out.data, x[index])
    assert_gradients_match(lambda t: t[index], x)


def test_getitem_boolean_mask_and_tensor_index():
    x = values((3, 4), 2)
    mask = x > 0
    assert_gradients_match(lambda t: t[mask], x)
    assert_gradients_match(lambda t: t[tg.Tensor(mask)], x)
    assert_gradients_match(lambda t: t[tg.Tensor(np.array([2, 0, 2]))], x)
    assert_gradients_match(lambda t: t[[0, 0, 1]], x)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cat_and_stack(axis):
    a, b, c = values((2, 3), 0), values((2, 3), 1), values((2, 3), 2)
    assert_gradients_match(lambda x, y, z: tg.cat([x, y, z], axis=axis), a, b, c)
    assert_gradients_match(lambda x, y, z: tg.stack([x, y, z], axis=axis), a, b, c)
    stacked = tg.stack([tg.Tensor(a, dtype=np.float64), tg.Tensor(b, dtype=np.float64)], axis=axis)
    np.testing.assert_array_equal(stacked.data, np.stack([a, b], axis=axis))


def test_cat_uneven_sizes():
    a, b = values((2, 3), 0), values((5, 3), 1)
    assert_gradients_match(lambda x, y: tg.cat([x, y]), a, b)


def test_composite_expression_with_reuse():
    """A deeper expression that uses its inputs several times (fan-out) and broadcasts."""
    w, b, x = values((3, 4), 0), values((4,), 1), values((5, 3), 2)

    def model(w, b):
        h = (tg.Tensor(x, dtype=np.float64) @ w + b).tanh()
        return (h * h).log_softmax(axis=1) + h.sigmoid() * w.sum(axis=0)

    assert_gradients_match(model, w, b)
