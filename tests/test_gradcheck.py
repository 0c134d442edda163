"""gradcheck: passes on every primitive and composite, fails where it should, and tells kinks from bugs."""

import numpy as np
import pytest

from tinygrad_edu import Function, Tensor, cat, get_rng, linear, manual_seed, stack, where
from tinygrad_edu.autograd import topological_order
from tinygrad_edu.gradcheck import GradcheckError, gradcheck
from tinygrad_edu.primitives import PRIMITIVES

rng = np.random.default_rng(0)


def t(*shape, low=-2.0, high=2.0):
    """A float64 leaf with values away from 0 (no accidental kinks)."""
    values = rng.uniform(0.3, 1.0, shape) * rng.choice([-1, 1], shape) * (high - low) / 2
    return Tensor(values, dtype=np.float64, requires_grad=True)


def positive(*shape):
    return Tensor(rng.uniform(0.5, 2.0, shape), dtype=np.float64, requires_grad=True)


PRIMITIVE_CASES = {
    "add": (lambda a, b: a + b, [t(3, 4), t(4)]),
    "sub": (lambda a, b: a - b, [t(3, 1), t(1, 4)]),
    "mul": (lambda a, b: a * b, [t(3, 4), t(3, 4)]),
    "div": (lambda a, b: a / b, [t(3, 4), positive(4)]),
    "pow": (lambda a, b: a**b, [positive(3), t(3)]),
    "maximum": (lambda a, b: a.maximum(b), [t(5), t(5)]),
    "where": (lambda a, b: where(a.data > 0, a, b), [t(2, 3), t(2, 3)]),
    "exp": (lambda a: a.exp(), [t(4)]),
    "log": (lambda a: a.log(), [positive(4)]),
    "sin": (lambda a: a.sin(), [t(4)]),
    "cos": (lambda a: a.cos(), [t(4)]),
    "tanh": (lambda a: a.tanh(), [t(4)]),
    "sum": (lambda a: a.sum(axis=1), [t(3, 4)]),
    "max": (lambda a: a.max(axis=0), [t(3, 4)]),
    "reshape": (lambda a: a.reshape(4, 3), [t(3, 4)]),
    "permute": (lambda a: a.transpose(1, 0, 2), [t(2, 3, 4)]),
    "index": (lambda a: a[np.array([0, 2, 0])], [t(3, 2)]),
    "cat": (lambda a, b: cat([a, b], axis=1), [t(2, 3), t(2, 1)]),
    "matmul": (lambda a, b: a @ b, [t(3, 4), t(4, 2)]),
    "batched matmul": (lambda a, b: a @ b, [t(2, 3, 4), t(4)]),
    "linear": (lambda x, w, b: linear(x, w, b), [t(5, 3), t(2, 3), t(2)]),
}

COMPOSITE_CASES = {
    "neg": (lambda a: -a, [t(3)]),
    "sqrt": (lambda a: a.sqrt(), [positive(3)]),
    "abs": (lambda a: a.abs(), [t(3)]),
    "minimum": (lambda a, b: a.minimum(b), [t(4), t(4)]),
    "clip": (lambda a: a.clip(-1.0, 1.0), [t(6)]),
    "relu": (lambda a: a.relu(), [t(6)]),
    "leaky_relu": (lambda a: a.leaky_relu(0.1), [t(6)]),
    "sigmoid": (lambda a: a.sigmoid(), [t(6)]),
    "softmax": (lambda a: a.softmax(axis=-1), [t(3, 4)]),
    "log_softmax": (lambda a: a.log_softmax(axis=0), [t(3, 4)]),
    "mean": (lambda a: a.mean(axis=(0, 1)), [t(2, 3, 2)]),
    "min": (lambda a: a.min(axis=1, keepdims=True), [t(3, 4)]),
    "logsumexp": (lambda a: a.logsumexp(axis=1), [t(3, 4)]),
    "T": (lambda a: a.T, [t(3, 4)]),
    "flatten": (lambda a: a.flatten(1), [t(2, 3, 2)]),
    "stack": (lambda a, b: stack([a, b], axis=1), [t(2, 3), t(2, 3)]),
    "mlp": (lambda x, w1, w2: ((x @ w1).tanh() @ w2).log_softmax(), [t(5, 3), t(3, 4), t(4, 2)]),
}


@pytest.mark.parametrize("name", list(PRIMITIVE_CASES) + list(COMPOSITE_CASES))
def test_passes_on_primitives_and_composites(name):
    fn, inputs = {**PRIMITIVE_CASES, **COMPOSITE_CASES}[name]
    report = gradcheck(fn, *inputs, raise_on_fail=True)
    assert report and all(r.checked == x.size for r, x in zip(report.inputs, inputs))


def test_primitive_cases_cover_every_primitive():
    seen = set()
    for fn, inputs in PRIMITIVE_CASES.values():
        seen |= {type(x.op) for x in topological_order(fn(*inputs)) if x.op is not None}
    assert seen == set(PRIMITIVES)


class WrongCube(Function):
    """x**3 whose backward is wrong (doubled) at one element only: flat index 5."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        out = 3 * x**2 * grad
        out.flat[5] *= 2
        return (out,)


def test_fails_on_wrong_custom_backward_with_index_and_node():
    x, w = t(3, 4), t(4, 2)
    report = gradcheck(lambda x, w: (WrongCube.apply(x) @ w).sin(), x, w)  # the line the fault names
    assert not report
    first, second = report.inputs
    assert not first.ok and first.failures == 1 and first.worst_index == (1, 1)
    assert second.ok
    assert report.fault is not None and report.fault.primitive == "WrongCube"
    assert report.fault.result.worst_index == (1, 1)
    assert "test_gradcheck.py" in report.fault.source and "WrongCube.apply(x) @ w" in report.fault.source
    text = str(report)
    assert "FAILED" in text and "WrongCube" in text and "(1, 1)" in text


def test_raise_on_fail_raises_with_the_report():
    with pytest.raises(GradcheckError, match="WrongCube"):
        gradcheck(lambda x: WrongCube.apply(x).sum(), t(2, 3), raise_on_fail=True)


def test_float32_inputs_are_checked_in_float64():
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)  # float32
    report = gradcheck(lambda x: (x * x).exp().sum(axis=1).log(), x, atol=1e-8, rtol=1e-7)
    assert report, str(report)
    assert x.grad is None  # the user's tensor is not touched


def test_relu_at_zero_is_a_kink_not_a_failure():
    x = Tensor([0.0, 1.0, -2.0, 3e-7, -4e-7], dtype=np.float64, requires_grad=True)
    report = gradcheck(lambda x: x.relu(), x)
    assert report
    assert report.inputs[0].kinks == [(0,), (3,), (4,)]
    assert "kink" in str(report)


def test_abs_and_max_ties():
    assert gradcheck(lambda x: x.abs(), Tensor([0.0, 2.0], dtype=np.float64, requires_grad=True))
    tied = Tensor([[1.0, 3.0, 3.0]], dtype=np.float64, requires_grad=True)
    assert gradcheck(lambda x: x.max(axis=1) * 2.0, tied)


class WrongReluAtZero(Function):
    """relu whose derivative at 0 is 2: outside the one-sided slopes 0 and 1, so it is a bug, not a kink."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad * np.where(x > 0, 1.0, np.where(x == 0, 2.0, 0.0)),)


def test_wrong_derivative_at_a_kink_is_still_a_failure():
    report = gradcheck(WrongReluAtZero.apply, Tensor([1.0, 0.0, -1.0], dtype=np.float64, requires_grad=True))
    assert not report and report.inputs[0].worst_index == (1,)


class SoftmaxNegatedBackward(Function):
    """Softmax whose backward has the wrong sign: invisible to the .sum() shortcut."""

    @staticmethod
    def forward(ctx, x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        s = e / e.sum(axis=-1, keepdims=True)
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad):
        (s,) = ctx.saved_tensors
        return (-s * (grad - (grad * s).sum(axis=-1, keepdims=True)),)


def test_random_upstream_catches_what_sum_hides():
    x = t(2, 3)
    assert gradcheck(lambda x: SoftmaxNegatedBackward.apply(x).sum(), x)  # the shortcut: always 0
    assert not gradcheck(SoftmaxNegatedBackward.apply, x)


def test_subset_of_elements_is_seeded():
    x = t(20, 30)
    first = gradcheck(lambda x: WrongCube.apply(x), x, max_elements=50, seed=3)
    again = gradcheck(lambda x: WrongCube.apply(x), x, max_elements=50, seed=3)
    assert first.inputs[0].checked == 50
    assert first.inputs[0].worst_index == again.inputs[0].worst_index
    assert gradcheck(lambda x: (x * x).sum(axis=0), x, max_elements=40)


def test_nondeterministic_function_is_reported_as_such():
    manual_seed(0)

    def dropout(x):
        keep = get_rng().uniform(size=x.shape) > 0.5
        return x * Tensor(keep / 0.5)

    report = gradcheck(dropout, t(10))
    assert not report and "not deterministic" in str(report)


def test_graph_cut_is_explained():
    report = gradcheck(lambda x: x * Tensor(x.data), t(3))  # x.data escapes the graph
    assert not report and report.fault is None
    assert "did not record" in str(report)


def test_needs_an_input_with_grad():
    with pytest.raises(ValueError, match="requires_grad=True"):
        gradcheck(lambda x: x * 2, Tensor([1.0]))


def test_non_tensor_output_is_a_clear_error():
    with pytest.raises(TypeError, match="must return a Tensor"):
        gradcheck(lambda x: 1.0, t(2))


def test_dropout_in_train_mode_is_not_deterministic_and_eval_mode_passes():
    import nn

    manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 2))
    x = t(5, 3)
    assert "not deterministic" in str(gradcheck(model, x))
    model.eval()
    assert gradcheck(model, x)
