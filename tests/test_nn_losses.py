"""Losses: values against NumPy references, gradients against finite differences, stability, errors."""

import numpy as np
import pytest
from nn_gradcheck import assert_param_gradients_match, float64  # noqa: F401  (a fixture, used by name)

import nn
from tinygrad_edu import PRIMITIVES, Tensor

rng = np.random.default_rng(0)


def reference_log_softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def reduce(values, reduction):
    return {"mean": values.mean(), "sum": values.sum(), "none": values}[reduction]


# ---------------------------------------------------------------- mse_loss


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.usefixtures("float64")
def test_mse_loss_values_and_gradients(reduction):
    pred = Tensor(rng.standard_normal((6, 2)), requires_grad=True)
    target = rng.standard_normal((6, 2))
    loss = nn.mse_loss(pred, target, reduction=reduction)
    np.testing.assert_allclose(loss.data, reduce((pred.data - target) ** 2, reduction))
    assert_param_gradients_match(lambda: nn.mse_loss(pred, target, reduction=reduction), [pred])


def test_mse_loss_refuses_n1_against_n_and_shows_the_fix():
    pred, target = Tensor(np.zeros((5, 1))), np.zeros(5)
    with pytest.raises(ValueError) as error:
        nn.mse_loss(pred, target)
    message = str(error.value)
    assert "(5, 1)" in message and "(5,)" in message
    assert "target = target.reshape((5, 1))" in message
    with pytest.raises(ValueError, match="different numbers of values"):
        nn.mse_loss(pred, np.zeros(4))


def test_mse_loss_keeps_float32_and_accepts_tensor_targets():
    pred = Tensor(np.ones(3), requires_grad=True)
    assert nn.mse_loss(pred, np.zeros(3, dtype=np.float64)).dtype == np.float32
    assert nn.mse_loss(pred, Tensor(np.zeros(3))).item() == 1.0


# ---------------------------------------------------------------- cross_entropy


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.usefixtures("float64")
def test_cross_entropy_with_integer_labels(reduction):
    logits = Tensor(rng.standard_normal((7, 4)) * 3, requires_grad=True)
    labels = rng.integers(0, 4, size=7)
    expected = -reference_log_softmax(logits.data)[np.arange(7), labels]
    np.testing.assert_allclose(
        nn.cross_entropy(logits, labels, reduction=reduction).data, reduce(expected, reduction)
    )
    assert_param_gradients_match(lambda: nn.cross_entropy(logits, labels, reduction=reduction), [logits])


@pytest.mark.usefixtures("float64")
def test_cross_entropy_with_probability_rows():
    logits = Tensor(rng.standard_normal((5, 3)), requires_grad=True)
    probs = rng.dirichlet(np.ones(3), size=5)
    expected = -(probs * reference_log_softmax(logits.data)).sum(axis=1).mean()
    np.testing.assert_allclose(nn.cross_entropy(logits, probs).data, expected)
    assert_param_gradients_match(lambda: nn.cross_entropy(logits, probs), [logits])
    labels = np.array([2, 0, 1, 1, 0])
    one_hot = np.eye(3)[labels]
    np.testing.assert_allclose(nn.cross_entropy(logits, one_hot).data, nn.cross_entropy(logits, labels).data)


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    logits = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    labels = np.array([0, 2, 1, 2])
    nn.cross_entropy(logits, labels).backward()
    softmax = np.exp(reference_log_softmax(logits.data.astype(np.float64)))
    np.testing.assert_allclose(logits.grad, (softmax - np.eye(3)[labels]) / 4, rtol=1e-5, atol=1e-7)
    assert logits.grad.dtype == np.float32


@pytest.mark.parametrize("scale", [1e3, 1e6, 1e30])
def test_cross_entropy_is_finite_for_huge_logits(scale):
    logits = Tensor(np.array([[1.0, -1.0, 0.0], [0.0, 0.5, -0.5]]) * scale, requires_grad=True)
    for target in (np.array([1, 0]), np.array([0, 1])):
        logits.grad = None
        loss = nn.cross_entropy(logits, target)
        loss.backward()
        assert np.isfinite(loss.data) and np.isfinite(logits.grad).all()
    # A confident right answer costs ~0, a confident wrong one costs the logit gap.
    right = nn.cross_entropy(Tensor([[scale, 0.0]]), np.array([0])).item()
    wrong = nn.cross_entropy(Tensor([[scale, 0.0]]), np.array([1])).item()
    assert right == pytest.approx(0.0, abs=1e-6) and wrong == pytest.approx(scale, rel=1e-6)


@pytest.mark.filterwarnings("ignore:overflow encountered")  # -3e38 - 3e38 overflows to -inf, on purpose
def test_cross_entropy_with_labels_is_finite_even_when_a_log_probability_is_minus_inf():
    logits = Tensor(np.array([[3e38, -3e38, 0.0]], dtype=np.float32), requires_grad=True)  # gap overflows
    loss = nn.cross_entropy(logits, np.array([0]))
    loss.backward()
    assert loss.item() == 0.0 and np.isfinite(logits.grad).all()


@pytest.mark.parametrize(
    ("target", "error", "message"),
    [
        (np.array([0, 3, 1]), ValueError, r"in \[0, 3\).*got \[3\]"),
        (np.array([0, -1, 1]), ValueError, r"got \[-1\]"),
        (np.array([[0], [1], [2]]), ValueError, r"shape \(3,\).*got \(3, 1\).*reshape\(-1\)"),
        (np.array([0, 1]), ValueError, r"shape \(3,\).*got \(2,\)"),
        (np.array([0.0, 1.0, 2.0]), ValueError, r"astype\(numpy.int64\)"),
        (np.ones((3, 2)), ValueError, r"logits' shape \(3, 3\)"),
        (np.array([True, False, True]), TypeError, "dtype bool"),
    ],
)
def test_cross_entropy_validates_labels(target, error, message):
    with pytest.raises(error, match=message):
        nn.cross_entropy(Tensor(np.zeros((3, 3))), target)


def test_cross_entropy_validates_logits_and_reduction():
    with pytest.raises(ValueError, match=r"\(N, C\).*reshape\(1, -1\)"):
        nn.cross_entropy(Tensor(np.zeros(3)), np.array([1]))
    with pytest.raises(ValueError, match='reduction must be "mean", "sum" or "none"'):
        nn.cross_entropy(Tensor(np.zeros((1, 3))), np.array([1]), reduction="avg")


def test_cross_entropy_accepts_integer_label_tensors():
    loss = nn.cross_entropy(Tensor(np.zeros((2, 4))), Tensor(np.array([1, 3])))
    assert loss.item() == pytest.approx(np.log(4))


# ---------------------------------------------------------------- binary_cross_entropy_with_logits


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.usefixtures("float64")
def test_bce_with_logits_values_and_gradients(reduction):
    logits = Tensor(rng.standard_normal((6, 2)) * 3, requires_grad=True)
    target = rng.uniform(size=(6, 2))
    p = 1 / (1 + np.exp(-logits.data))
    expected = -(target * np.log(p) + (1 - target) * np.log(1 - p))
    np.testing.assert_allclose(
        nn.binary_cross_entropy_with_logits(logits, target, reduction).data, reduce(expected, reduction)
    )
    assert_param_gradients_match(lambda: nn.binary_cross_entropy_with_logits(logits, target, reduction), [logits])


@pytest.mark.usefixtures("float64")
def test_bce_with_logits_gradient_is_sigmoid_minus_target_even_at_zero():
    logits = Tensor(np.array([0.0, 0.0, 2.0, -3.0]), requires_grad=True)
    target = np.array([1.0, 0.0, 1.0, 0.0])
    nn.binary_cross_entropy_with_logits(logits, target, reduction="sum").backward()
    np.testing.assert_allclose(logits.grad, 1 / (1 + np.exp(-logits.data)) - target)


def test_bce_with_logits_is_finite_for_huge_logits():
    logits = Tensor(np.array([1e4, -1e4, 1e30, -1e30]), requires_grad=True)
    loss = nn.binary_cross_entropy_with_logits(logits, np.array([1, 0, 0, 1]), reduction="none")
    loss.sum().backward()
    np.testing.assert_allclose(loss.data, [0, 0, 1e30, 1e30], rtol=1e-6)
    np.testing.assert_allclose(logits.grad, [0, 0, 1, -1])


def test_bce_with_logits_errors():
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        nn.binary_cross_entropy_with_logits(Tensor(np.zeros((4, 1))), np.zeros(4))
    with pytest.raises(ValueError, match=r"in \[0, 1\].*from 0.0 to 2.0.*cross_entropy"):
        nn.binary_cross_entropy_with_logits(Tensor(np.zeros(3)), np.array([0, 1, 2]))


def test_losses_build_graphs_of_primitives_only():
    logits = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    losses = [
        nn.mse_loss(logits, np.zeros((3, 4))),
        nn.cross_entropy(logits, np.array([0, 1, 3])),
        nn.binary_cross_entropy_with_logits(logits, np.ones((3, 4))),
    ]
    for loss in losses:
        stack = [loss]
        while stack:
            t = stack.pop()
            if t.op is not None:
                assert type(t.op) in PRIMITIVES
                stack.extend(t.op.parents)
