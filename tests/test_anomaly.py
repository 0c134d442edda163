"""detect_anomaly: the first non-finite forward output or gradient raises, naming op, shapes and line."""

import inspect

import numpy as np
import pytest

from tinygrad_edu import AnomalyError, Tensor, detect_anomaly, linear, state


def line_of(marker):
    """The line number in this file of the line that contains ``marker``."""
    lines = inspect.getsource(inspect.getmodule(line_of)).splitlines()
    return next(i for i, text in enumerate(lines, start=1) if marker in text and "line_of" not in text)


@pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")  # the bad value is the point
def test_forward_log_of_zero_names_op_shapes_line_and_element():
    p = Tensor([[0.5, 0.25], [0.0, 1.0]], requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        loss = -(p.log()).mean()  # MARK-LOG
        loss.backward()
    message = str(info.value)
    assert message.startswith("log produced 0 NaN and 1 inf of 4 values")
    assert "(2, 2) -> output shape (2, 2)" in message
    assert f"test_anomaly.py:{line_of('MARK-LOG')}:" in message and "p.log()" in message
    assert "first bad element: (1, 0); inputs there: 0" in message
    assert "clip" in message


@pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")  # the bad value is the point
def test_an_overflowing_linear_layer_is_named_with_a_hint():
    x = Tensor(np.full((2, 3), 1e30, np.float32))
    w = Tensor(np.full((4, 3), 1e30, np.float32), requires_grad=True)
    b = Tensor(np.zeros(4, np.float32), requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        linear(x, w, b)  # MARK-LINEAR
    message = str(info.value)
    assert message.startswith("linear produced 0 NaN and 8 inf of 8 values")
    assert f"test_anomaly.py:{line_of('MARK-LINEAR')}:" in message and "unscaled 0-255 pixels" in message


def test_backward_sqrt_at_zero_names_the_line_that_made_it():
    x = Tensor([4.0, 0.0, 1.0], requires_grad=True)
    with detect_anomaly():
        y = x.sqrt()  # MARK-SQRT
        loss = (y * 2.0).sum()
        with pytest.raises(AnomalyError) as info:
            loss.backward()
    message = str(info.value)
    assert message.startswith("pow.backward produced 0 NaN and 1 inf of 3 values in the gradient of input 0")
    assert f"test_anomaly.py:{line_of('MARK-SQRT')}:" in message
    assert "first bad element: (1,)" in message and "sqrt at 0" in message


@pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")  # the bad value is the point
def test_the_first_bad_operation_is_reported_not_a_later_one():
    x = Tensor([1.0, 1000.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        e = x.exp()  # MARK-EXP: overflows in float32
        (e / e.sum()).sum()  # would give NaN (inf / inf) next
    assert str(info.value).startswith("exp produced") and "overflow" in str(info.value)
    assert f":{line_of('MARK-EXP')}:" in str(info.value)


def test_inputs_already_bad_are_said_so():
    x = Tensor([np.nan, 1.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError, match="inputs already contained NaN"):
        x * 2.0


@pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")  # the bad value is the point
def test_no_check_outside_and_state_restored():
    x = Tensor([0.0], requires_grad=True)
    with pytest.raises(AnomalyError), detect_anomaly():
        x.log()
    assert not state.anomaly_mode and not state.record_source
    with np.errstate(divide="ignore"):
        assert np.isinf(x.log().data).all()  # no error outside the block


def test_works_as_a_decorator():
    @detect_anomaly()
    def step(x):
        return (x / 0.0).sum()

    with np.errstate(divide="ignore"), pytest.raises(AnomalyError, match="div produced"):
        step(Tensor([1.0], requires_grad=True))


def test_hand_written_softmax_that_underflows_gets_the_row_max_advice():
    z = Tensor(np.array([[-1000.0, -1001.0], [1.0, 2.0]]), requires_grad=True)
    with np.errstate(all="ignore"), detect_anomaly(), pytest.raises(AnomalyError) as caught:
        e = z.exp()
        _ = e / e.sum(axis=1, keepdims=True)
    message = str(caught.value)
    assert "div produced" in message and "own max" in message and "log_softmax" in message
    assert "add a small epsilon" not in message


def test_a_division_by_zero_not_from_exp_keeps_the_epsilon_advice():
    x = Tensor(np.array([1.0, 0.0]), requires_grad=True)
    with np.errstate(all="ignore"), detect_anomaly(), pytest.raises(AnomalyError, match="epsilon"):
        _ = 1.0 / (x * x)


def test_the_composite_is_named_with_the_primitive():
    x = Tensor(np.array([4.0, -1.0]), requires_grad=True)
    with np.errstate(all="ignore"), detect_anomaly(), pytest.raises(AnomalyError, match=r"pow \(in sqrt"):
        x.sqrt()


def test_the_same_advice_for_a_numpy_softmax_run_on_tensors():
    W = Tensor(np.array([[-900.0, -905.0]]), requires_grad=True)

    def softmax(x):  # the user's own, with NumPy functions
        e = np.exp(x)
        return e / np.sum(e, axis=1, keepdims=True)

    with np.errstate(all="ignore"), detect_anomaly(), pytest.raises(AnomalyError, match="own max") as caught:
        softmax(np.dot(np.ones((3, 1)), W))
    assert "test_anomaly.py" in str(caught.value) and "return e / np.sum" in str(caught.value)
