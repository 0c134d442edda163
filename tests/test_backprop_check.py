"""check_backprop: each diagnosis fires on its bug, and not on correct gradients or unrelated errors."""

import importlib.util
import pathlib
import sys
from dataclasses import fields, replace

import numpy as np
import pytest

from tinygrad_edu import Tensor, check_backprop

rng = np.random.default_rng(0)
N = 8
X = rng.standard_normal((N, 3))
Y = rng.standard_normal((N, 2))
PARAMS = {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}


def forward(W, b):
    return ((X @ W + b - Y) ** 2).mean()


def true_grads():
    """MSE of a linear layer, derived by hand (tests may hold derivatives; the library may not)."""
    d_out = 2 * (X @ PARAMS["W"] + PARAMS["b"] - Y) / Y.size
    return {"W": X.T @ d_out, "b": d_out.sum(axis=0)}, d_out


def mistake(report, name):
    check = next(p for p in report.parameters if p.name == name)
    return None if check.diagnosis is None else check.diagnosis.mistake


def test_correct_gradients_pass():
    grads, _ = true_grads()
    report = check_backprop(forward, PARAMS, grads, batch_size=N)
    assert report and "all gradients match" in str(report)


def test_gradients_from_a_function_and_tensor_params():
    params = {k: Tensor(v) for k, v in PARAMS.items()}  # float32 tensors: their values, read in float64
    grads32 = {k: g.astype(np.float32) for k, g in true_grads()[0].items()}
    report = check_backprop(forward, params, lambda: grads32, rtol=1e-4)
    assert report, str(report)


NEG_N = "sign flip and sum vs mean (factor = batch size)"


@pytest.mark.parametrize(
    "transform, expected",
    [
        (lambda g, d: {"W": -g["W"], "b": -g["b"]}, "sign flip"),
        (lambda g, d: {"W": g["W"] * N, "b": g["b"] * N}, "sum vs mean (factor = batch size)"),
        (lambda g, d: {"W": g["W"] / N, "b": g["b"] / N}, "divided by the batch size twice"),
        (lambda g, d: {"W": g["W"] / 2, "b": g["b"] / 2}, "missing factor 2"),
        (lambda g, d: {"W": g["W"] * 2, "b": g["b"] * 2}, "extra factor 2"),
        (lambda g, d: {"W": -N * g["W"], "b": -N * g["b"]}, NEG_N),
        (lambda g, d: {"W": g["W"] * 3.7, "b": g["b"] * 3.7}, "constant factor"),
    ],
)
def test_factor_patterns(transform, expected):
    grads, d_out = true_grads()
    report = check_backprop(forward, PARAMS, transform(grads, d_out), batch_size=N)
    assert not report
    assert mistake(report, "W") == expected and mistake(report, "b") == expected


def test_transposed_and_unsummed_bias():
    grads, d_out = true_grads()
    report = check_backprop(forward, PARAMS, {"W": grads["W"].T, "b": d_out})
    assert mistake(report, "W") == "transposed"
    assert mistake(report, "b") == "missing sum over the batch"
    square = {"W": rng.standard_normal((2, 2)), "b": np.zeros(2)}
    Xs = X[:, :2]

    def forward_square(W, b):
        return ((Xs @ W + b - Y) ** 2).mean()

    d = 2 * (Xs @ square["W"] - Y) / Y.size
    report = check_backprop(forward_square, square, {"W": d.T @ Xs, "b": d.sum(axis=0)})
    assert mistake(report, "W") == "transposed" and mistake(report, "b") is None
    report = check_backprop(forward, PARAMS, {"W": grads["W"], "b": d_out.sum()})
    assert mistake(report, "b") == "summed over every axis"


def test_weight_decay_patterns():
    lam = 0.05

    def with_decay(W, b):
        return forward(W, b) + lam * (W * W).sum()

    grads, _ = true_grads()
    W = PARAMS["W"]
    wrong = check_backprop(with_decay, PARAMS, {"W": grads["W"] + lam, "b": grads["b"]})
    assert mistake(wrong, "W") == "weight decay on sum(w) instead of sum(w**2)" and "0.05" in str(wrong)
    missing = check_backprop(with_decay, PARAMS, {"W": grads["W"], "b": grads["b"]})
    assert mistake(missing, "W") == "weight-decay term missing"
    assert check_backprop(with_decay, PARAMS, {"W": grads["W"] + 2 * lam * W, "b": grads["b"]})


@pytest.mark.parametrize("seed", range(5))
def test_random_errors_get_no_diagnosis(seed):
    noise = np.random.default_rng(seed)
    grads, _ = true_grads()
    noisy = {k: g + 0.1 * np.abs(g).max() * noise.standard_normal(g.shape) for k, g in grads.items()}
    report = check_backprop(forward, PARAMS, noisy, batch_size=N)
    assert not report
    assert all(p.diagnosis is None for p in report.parameters)
    assert "mismatch, no known pattern" in str(report)


def test_missing_and_wrong_shape_and_extra_names():
    grads, _ = true_grads()
    report = check_backprop(forward, PARAMS, {"W": grads["W"], "b": np.zeros(5), "c": np.zeros(1)})
    statuses = {p.name: p.status for p in report.parameters}
    assert statuses == {"W": "ok", "b": "wrong shape"}
    assert "unknown names" in str(report) and "shape mismatch, no known pattern" in str(report)
    assert check_backprop(forward, PARAMS, {"W": grads["W"]}).parameters[1].status == "missing"


def test_forward_must_return_a_scalar():
    with pytest.raises(TypeError, match="scalar loss"):
        check_backprop(lambda W, b: X @ W + b, PARAMS, true_grads()[0])


# ---------------------------------------------------------------- the example's bugs

spec = importlib.util.spec_from_file_location(
    "backprop_bugs", pathlib.Path(__file__).parent.parent / "examples" / "backprop_bugs.py"
)
example = importlib.util.module_from_spec(spec)
sys.modules["backprop_bugs"] = example  # dataclasses look their module up
spec.loader.exec_module(example)

HIDDEN = {"W1", "b1", "W2", "b2"}
EXPECTED = {
    "relu_grad_of_activation": ({"W1", "b1"}, "ReLU derivative is 1 everywhere (mask all ones)"),
    "relu_ge_at_zero": ({"b1"}, "ReLU derivative at z = 0 taken as 1 (>= instead of >)"),
    "sigmoid_grad_of_activation": (HIDDEN, "sigmoid derivative evaluated at the activation"),
    "sigmoid_1_minus_z": (HIDDEN, "sigmoid(z) * sigmoid(1 - z)"),
    "softmax_batch_max": ({"W1", "b1", "W2", "b2", "W3", "b3"}, "softmax shifted by the whole batch's max"),
    "log_of_zero": (set(), None),
    "relu_on_regression_output": (set(), None),
    "weight_decay_sum": ({"W1", "W2", "W3"}, "weight decay on sum(w) instead of sum(w**2)"),
}


def run_example(name):
    task = "regression" if name in example.REGRESSION_BUGS else "classification"
    return example.check(replace(example.Bugs(), **{name: True}), task)


def test_every_example_bug_is_covered():
    assert set(EXPECTED) == {f.name for f in fields(example.Bugs)}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_example_bug_is_caught_and_named(name):
    report = run_example(name)
    wrong, expected = EXPECTED[name]
    assert {p.name for p in report.parameters if not p.ok} == wrong
    assert all(p.diagnosis.mistake == expected for p in report.parameters if not p.ok)
    if name == "log_of_zero":
        assert not report and report.loss_diagnosis.mistake == "log(0) in the loss"
        assert "np.log(p[np.arange(N), y])" in report.float_event
    if name == "softmax_batch_max":
        assert report.loss_diagnosis.mistake == expected and "e / e.sum" in report.float_event
    if name == "weight_decay_sum":  # the user's loss has the same sum(w) penalty: the loss is explained too
        assert report.loss_diagnosis.mistake == expected and "exactly the penalty difference" in str(report)
    if name == "relu_on_regression_output":
        assert report and "ReLU is applied to the model's output" in report.findings[0]


@pytest.mark.parametrize("name", [n for n, (wrong, _) in EXPECTED.items() if wrong])
def test_example_diagnoses_do_not_fire_on_random_errors(name):
    """The same networks, with correct gradients plus noise: the variants must not claim them."""
    task = "regression" if name in example.REGRESSION_BUGS else "classification"
    X, y = example.make_data(task)
    net = example.NumpyMLP([4, 8, 6, 3])
    loss, grads = net.loss_and_grads(X, y, task, example.Bugs())
    noise = np.random.default_rng(1)
    noisy = {k: g + 0.05 * np.abs(g).max() * noise.standard_normal(g.shape) for k, g in grads.items()}
    report = check_backprop(example.tensor_forward(X, y, task, False), net.params, noisy, batch_size=len(X))
    assert not report and all(p.diagnosis is None for p in report.parameters)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_example_correct_version_passes(task):
    report = example.check(example.Bugs(), task)
    assert report and not report.findings and report.float_event is None


# ---------------------------------------------------------------- tanh hidden layer, sigmoid output with MSE

XT = rng.standard_normal((10, 3))
YT = rng.uniform(0, 1, (10, 2))
TANH_PARAMS = {"W1": rng.standard_normal((3, 4)), "W2": rng.standard_normal((4, 2))}


def tanh_forward(W1, W2):
    out = ((XT @ W1).tanh() @ W2).sigmoid()  # the sigmoid call the diagnosis points at
    return ((out - YT) ** 2).mean()


def tanh_grads(tanh_at_activation=False, sigmoid_shortcut=False):
    """Hand-derived, with two optional classic mistakes."""
    W1, W2 = TANH_PARAMS["W1"], TANH_PARAMS["W2"]
    h = np.tanh(XT @ W1)
    out = 1 / (1 + np.exp(-(h @ W2)))
    d_out = 2 * (out - YT) / YT.size
    dz2 = d_out if sigmoid_shortcut else d_out * out * (1 - out)
    dh = dz2 @ W2.T
    dz1 = dh * (1 - np.tanh(h) ** 2) if tanh_at_activation else dh * (1 - h**2)
    return {"W1": XT.T @ dz1, "W2": h.T @ dz2}


def test_tanh_and_output_sigmoid_patterns():
    assert check_backprop(tanh_forward, TANH_PARAMS, tanh_grads())
    report = check_backprop(tanh_forward, TANH_PARAMS, tanh_grads(tanh_at_activation=True))
    assert mistake(report, "W1") == "tanh derivative evaluated at the activation" and mistake(report, "W2") is None
    report = check_backprop(tanh_forward, TANH_PARAMS, tanh_grads(sigmoid_shortcut=True))
    assert mistake(report, "W1") == mistake(report, "W2") == "sigmoid derivative missing"
    location = next(p.diagnosis.location for p in report.parameters)
    assert "test_backprop_check.py" in location and "the sigmoid call the diagnosis points at" in location


# ---------------------------------------------------------------- the user's own activations, in their structure

XO = rng.standard_normal((9, 3))
YO = rng.uniform(0.1, 0.9, (9, 2))
OWN_PARAMS = {"weights": [rng.standard_normal((3, 5)), rng.standard_normal((5, 2))]}


def own_sigmoid(z):
    return 1.0 / (1.0 + (-z).exp())


def own_forward(weights):
    h = own_sigmoid(XO @ weights[0])
    return ((own_sigmoid(h @ weights[1]) - YO) ** 2).mean()


def own_grads(bug=None):
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    W1, W2 = OWN_PARAMS["weights"]
    z1 = XO @ W1
    h = sig(z1)
    out = sig(h @ W2)
    dz2 = 2 * (out - YO) / YO.size * out * (1 - out)
    dh = dz2 @ W2.T
    dz1 = dh * sig(z1) * sig(1 - z1) if bug == "one_minus" else dh * h * (1 - h)
    return {"weights": [XO.T @ dz1, h.T @ dz2]}


def test_own_sigmoid_is_recognised_and_its_classic_mistake_named():
    names = {"weights": ["W1", "W2"]}
    assert check_backprop(own_forward, OWN_PARAMS, own_grads(), names=names)
    report = check_backprop(own_forward, OWN_PARAMS, own_grads("one_minus"), names=names)
    assert mistake(report, "W1") == "sigmoid(z) * sigmoid(1 - z)" and mistake(report, "W2") is None
    assert "your own sigmoid" in str(report) and "1.0 / (1.0 + (-z).exp())" in str(report)


@pytest.mark.parametrize("threads", [4])
def test_variants_in_threads_do_not_interfere(threads):
    from concurrent.futures import ThreadPoolExecutor

    jobs = [("one_minus", "sigmoid(z) * sigmoid(1 - z)"), (None, None)] * (threads // 2)
    with ThreadPoolExecutor(threads) as pool:
        reports = list(pool.map(lambda job: check_backprop(own_forward, OWN_PARAMS, own_grads(job[0])), jobs))
    for (bug, expected), report in zip(jobs, reports):
        assert bool(report) == (bug is None) and mistake(report, "weights[0]") == expected


def test_two_checks_in_threads_leave_the_settings_as_they_found_them():
    """A check switches process-wide settings (float64, source lines) and restores them when done. If a
    second check started inside the first and ended after it, it restored the first one's float64: every
    tensor made afterwards was float64 (the thread test above failed now and then). Checks take turns."""
    import threading

    from tinygrad_edu import get_default_dtype, state

    first_inside, second_inside = threading.Event(), threading.Event()
    reports = []

    def first_forward(W, b):
        first_inside.set()
        second_inside.wait(timeout=1.0)  # were checks not taking turns, the second would be inside now
        return forward(W, b)

    def second_forward(W, b):
        second_inside.set()
        first.join(timeout=5.0)  # the first check ends while this one is still running
        return forward(W, b)

    def run(fn):
        reports.append(check_backprop(fn, PARAMS, true_grads()[0]))

    first = threading.Thread(target=run, args=(first_forward,))
    second = threading.Thread(target=run, args=(second_forward,))
    first.start()
    assert first_inside.wait(timeout=5.0)
    second.start()
    second.join(timeout=10.0)
    first.join(timeout=10.0)
    assert len(reports) == 2 and all(reports)
    assert get_default_dtype() == np.float32 and Tensor([1.0]).dtype == np.float32
    assert state.record_source is False and state.grad_enabled is True


def test_report_html_has_the_table_and_the_explanations():
    report = check_backprop(forward, PARAMS, {"W": -true_grads()[0]["W"], "b": true_grads()[0]["b"]})
    page = report._repr_html_()
    assert "<table>" in page and "<th>parameter</th>" in page and "sign flip" in page and "1 of 2" in page


@pytest.mark.parametrize(
    "params, grads, message",
    [
        ({"W": "weights", "b": PARAMS["b"]}, {"W": 0, "b": 0}, "params\\['W'\\] must be an array of numbers"),
        (PARAMS, {"W": "dW", "b": PARAMS["b"]}, "grads\\['W'\\] must be an array of numbers"),
        (PARAMS, [PARAMS["W"], PARAMS["b"]], "must be a dict with the same keys as params"),
        (list(PARAMS.values()), {}, "params must be a dict"),
        (OWN_PARAMS, {"weights": {"a": 1}}, "must be a list like params\\['weights'\\]"),
    ],
)
def test_bad_structures_get_clear_errors(params, grads, message):
    with pytest.raises(TypeError, match=message):
        check_backprop(own_forward if params is OWN_PARAMS else forward, params, grads)


def test_a_forward_that_makes_nan_is_reported_not_judged():
    def nan_forward(W, b):
        return (X @ W + b).log().mean()  # log of negative numbers

    for loss in (None, 0.5):
        report = check_backprop(nan_forward, PARAMS, true_grads()[0], loss=loss)
        assert not report and all(p.status == "reference not finite" for p in report.parameters)
        text = str(report)
        assert "produces NaN/inf" in text and "log" in text and "test_backprop_check.py" in text
        assert "mismatch" not in text and "WRONG" not in text and "ok" not in text.split("\n")[0]


def test_a_loss_that_differs_is_a_different_forward():
    report = check_backprop(forward, PARAMS, true_grads()[0], loss=123.0)
    assert not report and "not that forward" in str(report) and "gradcheck" not in str(report)


def test_mean_over_outputs_names_the_count_not_a_batch_size():
    grads, _ = true_grads()  # the loss averages over the N x 2 elements of an (8, 2) array
    report = check_backprop(forward, PARAMS, {k: g * 2 for k, g in grads.items()}, batch_size=N)
    assert mistake(report, "W") == "extra factor 2"  # a factor 2 stays a factor 2
    wide = rng.standard_normal((N, 5))

    def forward_wide(W, b):
        return ((X @ W + b - wide) ** 2).mean()

    params = {"W": rng.standard_normal((3, 5)), "b": rng.standard_normal(5)}
    d = 2 * (X @ params["W"] + params["b"] - wide) / N  # divides by N only
    report = check_backprop(forward_wide, params, {"W": X.T @ d, "b": d.sum(axis=0)}, batch_size=64)
    assert mistake(report, "W") == "mean over every element, gradient divided by the batch size only"
    assert "batch size is" not in str(report) and "(8, 5)" in str(report)


def test_weight_decay_on_sum_in_the_cost_is_read_the_right_way_round():
    lam, m = 0.2, N

    def cost_with_sum(W, b):
        return forward(W, b) + lam * W.sum()

    grads, _ = true_grads()
    report = check_backprop(cost_with_sum, PARAMS, {"W": grads["W"] + lam / m * PARAMS["W"], "b": grads["b"]})
    assert mistake(report, "W") == "weight decay on sum(w) in the loss, on sum(w**2) in your gradient"
    assert "the loss adds 0.2 * sum(w)" in str(report) and "-0." not in str(report)


@pytest.mark.parametrize("seed", range(4))
def test_leaky_output_and_missing_decay_named_on_every_seed(seed):
    """The "1e-10 one run, 0.6 the next" thread: the same mistake, whatever size the gradients have."""
    r = np.random.default_rng(seed)
    x, y, lam = r.standard_normal((6, 3)), r.standard_normal((6, 1)), 0.01
    params = {"W1": r.standard_normal((3, 4)), "W2": r.standard_normal((4, 1))}

    def forward(W1, W2):
        z = (x @ W1).tanh() @ W2
        out = (z > 0) * z + (z < 0) * 0.01 * z  # their leaky ReLU on the output
        return ((out - y) ** 2).mean() + lam * ((W1 * W1).sum() + (W2 * W2).sum())

    h = np.tanh(x @ params["W1"])
    z = h @ params["W2"]
    d_z = 2 * (np.where(z > 0, z, 0.01 * z) - y) / len(y) * np.where(z > 0, 1, 0.01)
    grads = {"W1": x.T @ (d_z @ params["W2"].T * (1 - h**2)), "W2": h.T @ d_z}  # the decay term forgotten
    report = check_backprop(forward, params, grads)
    assert {mistake(report, "W1"), mistake(report, "W2")} == {"weight-decay term missing"}
    assert any("leaky side" in f for f in report.findings) == bool(np.any(z < 0))
