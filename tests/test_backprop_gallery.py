"""check_backprop on the gallery's hand-written NumPy networks, run unchanged: passes, names each bug, and
names nothing on gradients that are wrong in no known way."""

import backprop_gallery as gallery
import numpy as np
import pytest

from tinygrad_edu import check_backprop

CASES = [(net, bug) for net in gallery.NETWORKS for bug in net.BUGS]


def check(net, grads):
    return check_backprop(net.forward, net.params, grads, names=getattr(net, "names", None),
                          batch_size=getattr(net, "N", getattr(net, "m", None)))  # fmt: skip


def flat(report):
    return {p.name: p for p in report.parameters}


@pytest.mark.parametrize("net", gallery.NETWORKS, ids=lambda n: n.__name__)
def test_correct_gradients_pass(net):
    report = check(net, net.backward())
    assert report, str(report)
    assert not report.findings


@pytest.mark.parametrize("net, bug", CASES, ids=[f"{n.__name__}-{b}" for n, b in CASES])
def test_each_bug_is_named(net, bug, monkeypatch):
    if bug == "decay_sum_in_cost":
        monkeypatch.setattr(net, "decay_in_cost", "sum")  # the user's cost has lam * sum(theta)
    report = check(net, net.backward(bug))
    wrong = [p for p in report.parameters if not p.ok]
    assert not report and wrong, str(report)
    assert {p.diagnosis.mistake if p.diagnosis else None for p in wrong} == {net.BUGS[bug]}, str(report)


@pytest.mark.parametrize("net", gallery.NETWORKS, ids=lambda n: n.__name__)
def test_no_diagnosis_on_unrelated_errors(net):
    """Correct gradients plus noise, and one element changed: wrong, but no classic mistake."""
    noise = np.random.default_rng(3)
    grads = net.backward()

    def perturb(g, how):
        g = np.array(g, dtype=float)
        if how == "noise":
            return g + 0.05 * np.abs(g).max() * noise.standard_normal(g.shape)
        g.flat[0] += 0.3 * np.abs(g).max() + 0.1
        return g

    for how in ("noise", "one element"):
        changed = {k: [perturb(g, how) for g in v] if isinstance(v, list) else perturb(v, how)
                   for k, v in grads.items()}  # fmt: skip
        report = check(net, changed)
        assert not report
        assert all(p.diagnosis is None for p in report.parameters if not p.ok), str(report)


def test_report_names_list_entries_and_the_users_function():
    net = gallery.ListsOfWeights
    report = check(net, net.backward("output_sigmoid_derivative_missing"))
    assert set(flat(report)) == {"w1", "w2", "b1", "b2"}
    text = str(report)
    assert "your own sigmoid" in text and "backprop_gallery.py" in text and "1.0 / (1.0 + np.exp(-z))" in text


def test_mean_count_factor_is_not_blamed_on_the_batch_size():
    net = gallery.LeakyRegression
    text = str(check(net, net.backward("mean_over_batch_only")))
    assert "(16, 10)" in text and "batch size is 10" not in text
