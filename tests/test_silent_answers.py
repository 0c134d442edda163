"""No silent wrong answers: habits from PyTorch/NumPy, numerics at the tails, checking tools, bad arguments."""

import decimal
import math
import warnings

import numpy as np
import pytest

import nn
from tinygrad_edu import Function, Tensor, gradcheck
from tinygrad_edu.composites import _TEXTBOOK_SIGMOID_FLOOR

# ---------------------------------------------------------------- transpose, permute, swapaxes


def test_transpose_of_two_axes_swaps_them_for_every_number_of_dimensions():
    m = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(Tensor(m).transpose(0, 1).data, m.T)  # never the identity
    np.testing.assert_array_equal(Tensor(m).transpose(1, 0).data, m.T)
    c = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(Tensor(c).transpose(0, 2).data, np.swapaxes(c, 0, 2))
    np.testing.assert_array_equal(Tensor(c).transpose(-1, 1).data, np.swapaxes(c, -1, 1))
    np.testing.assert_array_equal(Tensor(c).transpose().data, c.T)
    np.testing.assert_array_equal(Tensor(c).transpose(2, 0, 1).data, np.transpose(c, (2, 0, 1)))


def test_permute_and_swapaxes():
    c = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(Tensor(c).permute(2, 0, 1).data, np.transpose(c, (2, 0, 1)))
    np.testing.assert_array_equal(Tensor(c).permute((1, 2, 0)).data, np.transpose(c, (1, 2, 0)))
    np.testing.assert_array_equal(Tensor(c).swapaxes(0, 1).data, np.swapaxes(c, 0, 1))
    x = Tensor(c, requires_grad=True, dtype=np.float64)
    u = np.random.default_rng(0).standard_normal((4, 2, 3))
    x.permute(2, 0, 1).backward(u)
    np.testing.assert_array_equal(x.grad, np.transpose(u, (1, 2, 0)))


def test_transpose_and_permute_misuse_is_explained():
    t = Tensor(np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"permute"):
        t.transpose((0, 1))
    with pytest.raises(TypeError, match="two axes"):
        t.transpose(0)
    with pytest.raises(ValueError, match="permutation"):
        Tensor(np.ones((2, 3, 4))).permute(0, 0, 1)
    with pytest.raises(ValueError, match="out of range"):
        t.swapaxes(0, 2)
    with pytest.raises(TypeError, match="integers"):
        t.swapaxes(0, 1.0)


# ---------------------------------------------------------------- custom Function gradient shapes


def _identity_with_backward(grad_for_input):
    class Faulty(Function):
        @staticmethod
        def forward(ctx, x):
            return x.copy()

        @staticmethod
        def backward(ctx, grad):
            return (grad_for_input(grad),)

    return Faulty


@pytest.mark.parametrize("shape", [(3, 3), (2, 3), (1, 3), (3, 1)])
def test_a_gradient_no_broadcast_could_produce_is_an_error_naming_the_function(shape):
    faulty = _identity_with_backward(lambda grad: np.ones(shape))
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"faulty\.backward.*Faulty"):
        faulty.apply(x).sum().backward()


def test_a_gradient_of_the_broadcast_shape_is_still_reduced():
    class AddRow(Function):
        @staticmethod
        def forward(ctx, a, row):
            return a + row

        @staticmethod
        def backward(ctx, grad):
            return grad, grad  # (4, 3) for the row of shape (3,): a real broadcast

    row = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    AddRow.apply(Tensor(np.ones((4, 3))), row).sum().backward()
    np.testing.assert_array_equal(row.grad, [4.0, 4.0, 4.0])
    bias = Tensor(np.zeros((1, 3)), requires_grad=True)
    (Tensor(np.ones((4, 3))) * bias).sum().backward()
    np.testing.assert_array_equal(bias.grad, [[4.0, 4.0, 4.0]])


def test_a_backward_returning_strings_is_a_type_error_naming_the_function():
    wordy = _identity_with_backward(lambda grad: "abc")
    with pytest.raises(TypeError, match=r"faulty\.backward.*str.*numeric"):
        wordy.apply(Tensor([1.0], requires_grad=True)).sum().backward()
    words = _identity_with_backward(lambda grad: np.array(["1.0"]))
    with pytest.raises(TypeError, match="numeric"):
        words.apply(Tensor([1.0], requires_grad=True)).sum().backward()


def test_forward_or_backward_without_staticmethod_is_refused_when_the_class_is_defined():
    with pytest.raises(TypeError, match=r"Double\.backward must be a @staticmethod"):

        class Double(Function):
            @staticmethod
            def forward(ctx, x):
                return 2 * x

            def backward(ctx, grad):
                return (2 * grad,)

    with pytest.raises(TypeError, match=r"Half\.forward must be a @staticmethod"):

        class Half(Function):
            def forward(ctx, x):
                return x / 2


# ---------------------------------------------------------------- sigmoid, softplus, logsigmoid


def _ulps(value: np.ndarray, reference: np.ndarray, dtype) -> float:
    """The largest error in units of the last place of ``dtype`` at the reference value."""
    spacing = np.spacing(np.abs(reference).astype(dtype)).astype(np.float64)
    return float(np.max(np.abs(value.astype(np.float64) - reference) / spacing))


def test_sigmoid_is_accurate_to_a_few_ulps_over_the_float32_range():
    x = np.concatenate([np.linspace(-87, 88, 3501), [-20.0, -17.0, 0.0]]).astype(np.float32)
    xd = x.astype(np.float64)
    reference = np.where(xd >= 0, 1 / (1 + np.exp(-np.abs(xd))), np.exp(-np.abs(xd)) / (1 + np.exp(-np.abs(xd))))
    t = Tensor(x, requires_grad=True)
    s = t.sigmoid()
    s.backward(np.ones_like(x))
    assert _ulps(s.data, reference, np.float32) <= 4
    e = np.exp(-np.abs(xd))
    normal = np.abs(xd) < 80  # away from float32's subnormal results, where ulps are absolute
    assert _ulps(t.grad[normal], (e / (1 + e) ** 2)[normal], np.float32) <= 8
    assert s.data[-3] == pytest.approx(2.0611537e-9, rel=1e-6)  # was 0
    assert s.data[-2] == pytest.approx(4.1399378e-8, rel=1e-6)  # was 5.96e-8


def test_sigmoid_is_accurate_to_a_few_ulps_in_float64():
    x = np.array([-700.0, -300.0, -40.0, -36.6, -20.0, -1.5, -1e-10, 0.0, 0.3, 5.0, 20.0, 40.0, 700.0])
    with decimal.localcontext(decimal.Context(prec=40)):  # the standard library's 40-digit references
        e = [(-decimal.Decimal(float(v))).exp() for v in x]
        reference = np.array([float(1 / (1 + ev)) for ev in e])
        derivative = np.array([float(ev / (1 + ev) ** 2) for ev in e])
    t = Tensor(x, dtype=np.float64, requires_grad=True)
    s = t.sigmoid()
    s.backward(np.ones_like(x))
    assert _ulps(s.data, reference, np.float64) <= 4
    assert _ulps(t.grad, derivative, np.float64) <= 8
    assert s.data[2] == pytest.approx(4.248354255291589e-18, rel=1e-14)  # was 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("upstream_scale", ["one", "sqrt_tiny", "huge"])
def test_sigmoid_above_its_floor_is_the_textbook_expression_and_as_accurate(dtype, upstream_scale):
    """Down to the floor, 1 / (1 + exp(-x)) keeps value and gradient to a few ulps, for an upstream
    gradient as small as sqrt(smallest normal) (a lower floor would fail at the floor itself)."""
    floor = _TEXTBOOK_SIGMOID_FLOOR[np.dtype(dtype)]
    x = np.concatenate([[floor], np.linspace(floor, 60, 3001), [-1e-30, 0.0, 1e-30]]).astype(dtype)
    assert x.min() == floor
    tiny = np.finfo(dtype).tiny
    upstream = {"one": 1.0, "sqrt_tiny": 2 * np.sqrt(tiny), "huge": np.finfo(dtype).max / 8}[upstream_scale]
    t = Tensor(x, dtype=dtype, requires_grad=True)
    s = t.sigmoid()
    s.backward(np.full_like(x, upstream))
    textbook = Tensor(x, dtype=dtype, requires_grad=True)
    (1.0 / ((-textbook).exp() + 1.0)).backward(np.full_like(x, upstream))
    np.testing.assert_array_equal(t.grad, textbook.grad)  # this input took the textbook expression
    xl = x.astype(np.longdouble)  # the references, with more bits than float64 on x86
    e = np.exp(-np.abs(xl))
    reference = np.where(xl >= 0, 1 / (1 + e), e / (1 + e))
    derivative = upstream * (e / (1 + e) ** 2)
    assert _ulps(s.data, reference, dtype) <= 4
    normal = derivative > tiny / np.finfo(dtype).eps  # ulps of subnormal results are absolute
    assert normal.sum() > 1000
    assert _ulps(t.grad[normal], derivative[normal], dtype) <= 8


def test_sigmoid_below_the_floor_keeps_a_gradient_the_textbook_expression_loses():
    x = np.array([-60.0, -30.0, 1.0], dtype=np.float32)  # -60 and -30 lie below float32's floor (-21.8)
    t = Tensor(x, requires_grad=True)
    t.sigmoid().sum().backward()
    textbook = Tensor(x, requires_grad=True)
    (1.0 / ((-textbook).exp() + 1.0)).sum().backward()
    assert textbook.grad[0] == 0  # sigmoid(-60)² underflows in the chain rule through 1 / u
    assert t.grad[0] == pytest.approx(8.7565e-27, rel=1e-4)
    assert t.grad[1] == pytest.approx(9.3576e-14, rel=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_and_logsigmoid_are_finite_with_finite_gradients_for_every_finite_input(dtype):
    info = np.finfo(dtype)
    x = np.array([-info.max, -1e4, -200.0, -40.0, -20.0, -1.0, -info.tiny, 0.0, info.tiny, 1.0, 20.0, 40.0, 200.0, 1e4,
                  info.max], dtype=dtype)  # fmt: skip
    xd = x.astype(np.float64)
    e = np.exp(-np.abs(xd))
    sigmoid = np.where(xd >= 0, 1 / (1 + e), e / (1 + e))
    for name, reference, slope in [
        ("softplus", np.maximum(xd, 0) + np.log1p(e), sigmoid),
        ("logsigmoid", np.minimum(xd, 0) - np.log1p(e), np.where(xd >= 0, e / (1 + e), 1 / (1 + e))),
    ]:
        t = Tensor(x, dtype=dtype, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no overflow or invalid value inside
            out = getattr(t, name)()
            out.backward(np.ones_like(x))
        assert np.isfinite(out.data).all() and np.isfinite(t.grad).all(), name
        np.testing.assert_allclose(out.data, reference.astype(dtype), rtol=4 * info.eps, atol=0, err_msg=name)
        np.testing.assert_allclose(t.grad, slope, rtol=8 * info.eps, atol=info.tiny, err_msg=name)


def test_log_of_sigmoid_far_in_the_tail_is_finite_with_a_finite_gradient():
    x = Tensor([-20.0], requires_grad=True)
    y = x.sigmoid().log()
    y.backward()
    assert np.isfinite(y.data).all() and y.data[0] == pytest.approx(-20.0, rel=1e-6)
    assert x.grad[0] == pytest.approx(1.0, rel=1e-5)


def test_softplus_matches_torch():
    torch = pytest.importorskip("torch", reason="torch is an optional oracle")
    x = np.linspace(-30, 30, 121)
    t = Tensor(x, dtype=np.float64, requires_grad=True)
    t.softplus().backward(np.ones_like(x))
    tt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.softplus(tt, threshold=1e9).backward(torch.ones(121, dtype=torch.float64))
    np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- the tails of the other composites and losses


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_composites_and_losses_at_the_tails_stay_finite(dtype):
    big = np.finfo(dtype).max
    rows = np.array([[1e4, -1e4, 0.0], [big, -big, 1.0], [np.inf, 0.0, 1.0], [-np.inf, 0.0, 1.0]], dtype=dtype)
    rng = np.random.default_rng(0)
    for name in ("tanh", "sigmoid", "softmax", "log_softmax", "logsumexp"):
        x = Tensor(rows, dtype=dtype, requires_grad=True)
        with np.errstate(all="ignore"):  # -big - big overflows to -inf in log_softmax: that is the rounding
            out = getattr(x, name)() if name in ("tanh", "sigmoid") else getattr(x, name)(axis=1)
            out.backward(rng.standard_normal(out.shape).astype(dtype))
        assert np.isfinite(x.grad).all(), name
        if name != "log_softmax":  # log_softmax is -inf where a probability underflows to 0: honest
            assert not np.isnan(out.data).any(), name
    with np.errstate(over="ignore"):
        probabilities = Tensor(rows, dtype=dtype).softmax(axis=1).data
    np.testing.assert_allclose(probabilities[2], [1.0, 0.0, 0.0])  # +inf takes all the probability
    np.testing.assert_allclose(probabilities[3], [0.0, 0.2689414, 0.7310586], rtol=1e-6)
    for logits in (rows[:2], -rows[:2]):
        for loss in (
            lambda z: nn.cross_entropy(z, np.array([0, 2])),
            lambda z: nn.cross_entropy(z, np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]], dtype=dtype)),
            lambda z: nn.binary_cross_entropy_with_logits(z, np.full((2, 3), 0.5, dtype=dtype)),
        ):
            z = Tensor(logits, dtype=dtype, requires_grad=True)
            with np.errstate(all="ignore"):
                value = loss(z)
                value.backward()
            assert not np.isnan(value.data) and np.isfinite(z.grad).all()


# ---------------------------------------------------------------- gradcheck must not blame correct code


def test_gradcheck_of_a_nan_value_says_so_and_where_instead_of_blaming_a_backward():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        report = gradcheck(lambda a: (a * -1.0).log().sum(), x)
    text = str(report)
    assert not report
    assert "NaN" in text and "output of log" in text and "test_silent_answers.py" in text
    assert "Fix that backward" not in text


def test_gradcheck_with_a_non_finite_finite_difference_does_not_blame_the_backward():
    x = Tensor([1e-7, 1.0], dtype=np.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        report = gradcheck(lambda a: a.log(), x)
    assert not report
    assert "NaN or inf within eps" in str(report) and "(0,)" in str(report)
    assert "Fix that backward" not in str(report)
    assert gradcheck(lambda a: a.log(), Tensor([0.5, 1.0], requires_grad=True))  # a correct use passes


def test_gradcheck_accepts_the_inputs_as_one_tuple_like_pytorch():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = Tensor([3.0, -1.0], requires_grad=True)
    report = gradcheck(lambda a, b: a * b, (x, y))
    assert report and len(report.inputs) == 2
    assert gradcheck(lambda a, b: a * b, x, y)


# ---------------------------------------------------------------- bad arguments get clear errors


def test_bad_axis_and_ragged_operands():
    t = Tensor(np.ones((2, 2)))
    with pytest.raises(TypeError, match=r"sum: axis must be an int.*float 1\.0"):
        t.sum(axis=1.0)
    with pytest.raises(TypeError, match="axis must be"):
        t.mean(axis="0")
    with pytest.raises(ValueError, match=r"mul.*rectangular"):
        t * [[1, 2], [3]]
    assert t.sum(axis=(0, 1)).item() == 4.0  # correct use still works


def test_values_the_dtype_cannot_hold_are_an_error_not_a_silent_inf():
    with pytest.raises(ValueError, match="too large for int64"):
        Tensor([2**70])
    with pytest.raises(ValueError, match=r"1e\+39.*float32.*inf"):
        Tensor([1e39])
    with pytest.raises(ValueError, match="float32"):
        Tensor(np.array([1e39]), dtype=np.float32)
    with pytest.raises(ValueError, match="uint8"):
        Tensor(np.array([300]), dtype=np.uint8)
    assert Tensor([1e39], dtype=np.float64).item() == 1e39
    assert np.isinf(Tensor([np.inf, -np.inf]).data).all()  # an inf that was given stays
    assert Tensor([2**40]).item() == 2**40


def test_backward_with_a_non_numeric_gradient():
    y = Tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(TypeError, match=r"backward\(grad=\.\.\.\).*str"):
        y.backward("abc")
    with pytest.raises(TypeError, match="backward"):
        y.backward([[1.0], [2.0, 3.0]])


def test_softmax_over_an_empty_axis():
    with pytest.raises(ValueError, match=r"softmax: axis 1.*length 0"):
        Tensor(np.zeros((2, 0))).softmax(axis=1)
    with pytest.raises(ValueError, match="log_softmax"):
        Tensor(np.zeros((2, 0))).log_softmax(axis=1)
    assert Tensor(np.zeros((0, 3))).softmax(axis=1).shape == (0, 3)  # no rows is fine


def test_cross_entropy_probability_targets_must_be_distributions():
    logits = Tensor(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"row 0.*sum"):
        nn.cross_entropy(logits, np.array([[-0.5, 1.0, 0.5], [1.0, 0.0, 0.0]], dtype=np.float32))
    with pytest.raises(ValueError, match=r"row 1"):
        nn.cross_entropy(logits, np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.0]], dtype=np.float32))
    smoothed = np.full((2, 3), 0.1 / 3, dtype=np.float32) + np.eye(3, dtype=np.float32)[[0, 2]] * 0.9
    loss = nn.cross_entropy(logits, smoothed)
    assert loss.item() == pytest.approx(math.log(3), rel=1e-6)


def test_relu_of_negative_infinity_and_of_negative_numbers_is_plus_zero():
    with np.errstate(invalid="ignore"):
        out = Tensor([-np.inf, -1.0, 2.0]).relu().data
    assert not np.isnan(out).any()
    assert not np.signbit(out[:2]).any()


def test_huge_finite_logits_and_gradients_raise_no_spurious_overflow_warning():
    """Internal checks once summed arrays (the row maxes, a backward's product), which overflow to inf."""
    logits = Tensor(np.array([[3e38, 1.0], [3e38, 2.0]], np.float32), requires_grad=True)
    x = Tensor(np.linspace(-10, 10, 20_000, dtype=np.float32), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = nn.cross_entropy(logits, np.array([0, 1]))
        loss.backward()
        x.sigmoid().backward(np.full(x.shape, 3e38, np.float32))
    assert loss.item() == pytest.approx(1.5e38, rel=1e-6)
    np.testing.assert_array_equal(logits.grad, [[0, 0], [0.5, -0.5]])
    assert np.isfinite(x.grad).all() and x.grad.max() == pytest.approx(3e38 / 4, rel=1e-6)
