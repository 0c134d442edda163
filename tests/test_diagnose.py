"""nn.diagnose: each health check fires on its problem and stays quiet on a healthy model."""

import numpy as np
import pytest

import nn
from nn.diagnose import diagnose
from tinygrad_edu import Tensor, manual_seed

rng = np.random.default_rng(0)
X = rng.standard_normal((64, 10))
LABELS = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1)
TARGETS = rng.standard_normal((64, 1))


def levels(report, check):
    return [f.level for f in report.findings if f.check == check]


def test_healthy_classifier():
    manual_seed(0)
    model = nn.MLP([10, 32, 32, 3])
    before = [p.data.copy() for p in model.parameters()]
    report = diagnose(model, nn.cross_entropy, (X, LABELS))
    assert report, str(report)
    assert levels(report, "overfit a small batch") == ["ok"]
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))  # restored
    assert model.training and "gradient norms" in str(report) and "layers.0.weight" in str(report)


def test_relu_on_regression_output_fails_to_overfit():
    manual_seed(0)
    model = nn.MLP([10, 32, 1], output_activation="relu")
    report = diagnose(model, nn.mse_loss, (X, TARGETS))
    assert not report
    assert levels(report, "output") == ["problem"]
    assert levels(report, "overfit a small batch") == ["problem"]


class Probabilities(nn.Module):
    """A classifier that ends in a softmax although cross_entropy expects logits."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(10, 3)

    def forward(self, x):
        return self.linear(x).softmax(axis=1)


def test_softmax_before_cross_entropy():
    manual_seed(0)
    report = diagnose(Probabilities(), nn.cross_entropy, (X, LABELS))
    assert any("already probabilities" in f.message for f in report.problems())


class Collapsed(nn.Module):
    """A huge bias on class 2 and a big last layer: every prediction is class 2, the loss starts huge."""

    def __init__(self, unused=False):
        super().__init__()
        self.linear = nn.Linear(10, 3)
        self.linear.bias.data[:] = [0.0, 0.0, 50.0]
        if unused:
            self.spare = nn.Linear(3, 3)

    def forward(self, x):
        return self.linear(x)


def test_collapsed_predictions_high_initial_loss_and_unused_parameter():
    manual_seed(0)
    report = diagnose(Collapsed(unused=True), nn.cross_entropy, (X, LABELS))
    assert levels(report, "predictions") == ["warning"]
    assert "class 2 gets 100%" in str(report)
    assert levels(report, "initial loss") == ["problem"]
    assert [f.message for f in report.findings if f.check == "gradient"][:2] == [
        "spare.weight got no gradient",
        "spare.bias got no gradient",
    ]


def test_dead_units():
    manual_seed(0)
    model = nn.MLP([10, 16, 3])
    first = next(iter(model.parameters()))
    for p in model.parameters():
        if p.shape == (16,):
            p.data[:] = -100.0  # every hidden pre-activation is negative: all ReLUs dead
    report = diagnose(model, nn.cross_entropy, (X, LABELS))
    assert levels(report, "units") == ["problem"] and "100% of the 16 units" in str(report)
    assert any("all zero" in f.message for f in report.problems())
    assert first.grad is None


@pytest.mark.parametrize("loss_fn, targets", [(nn.cross_entropy, LABELS), (nn.mse_loss, TARGETS)])
def test_expected_initial_loss_is_that_of_an_all_zero_output(loss_fn, targets):
    manual_seed(0)
    out = 3 if targets is LABELS else 1
    report = diagnose(nn.MLP([10, 8, out]), loss_fn, (Tensor(X), targets))
    expected = np.log(3) if targets is LABELS else np.mean(TARGETS**2)
    assert f"scores {expected:.4g}" in str(report)


class OwnOutput(nn.Module):
    """A regression model whose output goes through an activation of the ReLU family."""

    def __init__(self, output):
        super().__init__()
        self.hidden, self.out, self.output = nn.Linear(10, 16), nn.Linear(16, 1), output

    def forward(self, x):
        return self.output(self.out(self.hidden(x).tanh()))


@pytest.mark.parametrize(
    "output, words",
    [
        (lambda z: z.relu(), "clamped at 0"),
        (lambda z: z.leaky_relu(0.01), "leaky side"),
        (lambda z: z.clip(0, None), "clamped at 0"),
        (lambda z: (z > 0) * z, "clamped at 0"),  # the user's own ReLU
        (lambda z: (z > 0) * z + (z < 0) * 0.01 * z, "leaky side"),  # the user's own leaky ReLU
    ],
)
def test_relu_family_on_a_regression_output_is_flagged(output, words):
    manual_seed(0)
    report = diagnose(OwnOutput(output), nn.mse_loss, (X, TARGETS), overfit_steps=5)
    outputs = [f for f in report.findings if f.check == "output"]
    assert len(outputs) == 1 and outputs[0].level == "problem" and words in outputs[0].message


def test_no_output_finding_without_an_output_activation():
    manual_seed(0)
    report = diagnose(OwnOutput(lambda z: z), nn.mse_loss, (X, TARGETS), overfit_steps=5)
    assert not [f for f in report.findings if f.check == "output"]


def test_health_report_html_has_the_same_content():
    manual_seed(0)
    report = diagnose(nn.MLP([10, 8, 3]), nn.cross_entropy, (X, LABELS), overfit_steps=5)
    page = report._repr_html_()
    assert page.count("<table>") == 2 and "layers.0.weight" in page
    assert all(f.message.split(" ")[0] in page for f in report.findings)
