"""A hand-written NumPy MLP with the classic backprop bugs behind flags: check_backprop names each one.

The network: x -> Linear -> ReLU -> Linear -> sigmoid -> Linear -> softmax
cross-entropy (classification) or MSE (regression), plus weight decay
0.01 * sum(W**2) on the weights. ``NumpyMLP.loss_and_grads`` is what a user
writes by hand; ``tensor_forward`` is the same model written once with Tensor
operations, so that autodiff can compute the true gradients.

Run: python examples/backprop_bugs.py            (every bug, then the correct version)
     python examples/backprop_bugs.py sigmoid_1_minus_z
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields, replace

import numpy as np

from tinygrad_edu import check_backprop

WEIGHT_DECAY = 0.01


@dataclass(frozen=True)
class Bugs:
    """Each flag switches on one classic mistake."""

    relu_grad_of_activation: bool = False  # relu'(a) as (a >= 0) on the activation: always 1
    relu_ge_at_zero: bool = False  # (z >= 0) instead of (z > 0): differs where z is exactly 0
    sigmoid_grad_of_activation: bool = False  # s'(a) with a = s(z) already: s(s(z)) * (1 - s(s(z)))
    sigmoid_1_minus_z: bool = False  # sigmoid(z) * sigmoid(1 - z)
    softmax_batch_max: bool = False  # exp(z - z.max()): one max for the whole batch
    log_of_zero: bool = False  # loss = -log(p[y]) with p underflowed to 0
    relu_on_regression_output: bool = False  # the model's output can't go below 0
    weight_decay_sum: bool = False  # penalty 0.01 * sum(W) instead of 0.01 * sum(W**2)


def sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))  # 1 / (1 + exp(-z)) without overflow


class NumpyMLP:
    """What a user writes by hand: forward, loss and backward in NumPy, bugs included on request."""

    def __init__(self, sizes, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {}
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            self.params[f"W{i}"] = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
            self.params[f"b{i}"] = np.zeros(n_out)

    def loss_and_grads(self, X, y, task, bugs):
        W1, b1, W2, b2, W3, b3 = (self.params[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
        N = X.shape[0]
        z1 = X @ W1 + b1
        a1 = np.maximum(z1, 0)
        z2 = a1 @ W2 + b2
        a2 = sigmoid(z2)
        z3 = a2 @ W3 + b3
        if task == "classification":
            m = z3.max() if bugs.softmax_batch_max else z3.max(axis=1, keepdims=True)
            e = np.exp(z3 - m)
            p = e / e.sum(axis=1, keepdims=True)
            if bugs.log_of_zero:
                loss = -np.mean(np.log(p[np.arange(N), y]))
            else:
                log_p = z3 - m - np.log(e.sum(axis=1, keepdims=True))
                loss = -np.mean(log_p[np.arange(N), y])
            dz3 = p.copy()
            dz3[np.arange(N), y] -= 1
            dz3 /= N
        else:
            out = np.maximum(z3, 0) if bugs.relu_on_regression_output else z3
            loss = np.mean((out - y) ** 2)
            dz3 = 2 * (out - y) / out.size
            if bugs.relu_on_regression_output:
                dz3 = dz3 * (z3 > 0)
        grads = {"W3": a2.T @ dz3, "b3": dz3.sum(axis=0)}
        da2 = dz3 @ W3.T
        if bugs.sigmoid_grad_of_activation:
            dz2 = da2 * sigmoid(a2) * (1 - sigmoid(a2))
        elif bugs.sigmoid_1_minus_z:
            dz2 = da2 * sigmoid(z2) * sigmoid(1 - z2)
        else:
            dz2 = da2 * a2 * (1 - a2)
        grads["W2"], grads["b2"] = a1.T @ dz2, dz2.sum(axis=0)
        da1 = dz2 @ W2.T
        if bugs.relu_grad_of_activation:
            dz1 = da1 * (a1 >= 0)
        elif bugs.relu_ge_at_zero:
            dz1 = da1 * (z1 >= 0)
        else:
            dz1 = da1 * (z1 > 0)
        grads["W1"], grads["b1"] = X.T @ dz1, dz1.sum(axis=0)
        for name in ("W1", "W2", "W3"):
            W = self.params[name]
            if bugs.weight_decay_sum:
                loss += WEIGHT_DECAY * np.sum(W)
                grads[name] = grads[name] + WEIGHT_DECAY
            else:
                loss += WEIGHT_DECAY * np.sum(W**2)
                grads[name] = grads[name] + 2 * WEIGHT_DECAY * W
        return loss, grads


def tensor_forward(X, y, task, relu_output):
    """The same model with Tensor operations: ``forward(**params)`` for check_backprop."""

    def forward(W1, b1, W2, b2, W3, b3):
        a1 = (X @ W1 + b1).relu()
        a2 = (a1 @ W2 + b2).sigmoid()
        z3 = a2 @ W3 + b3
        if task == "classification":
            data_loss = -z3.log_softmax(axis=1)[np.arange(len(y)), y].mean()
        else:
            out = z3.relu() if relu_output else z3
            data_loss = ((out - y) ** 2).mean()
        return data_loss + WEIGHT_DECAY * sum((W * W).sum() for W in (W1, W2, W3))

    return forward


def make_data(task, n=16, seed=1):
    """Inputs with two blank (all-zero) rows: with zero biases, their ReLU inputs are exactly 0."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    X[:2] = 0.0
    y = rng.integers(0, 3, n) if task == "classification" else rng.standard_normal((n, 3))
    return X, y


def check(bugs: Bugs, task: str):
    """check_backprop on the hand-written gradients of a fresh network with these bugs."""
    X, y = make_data(task)
    net = NumpyMLP([4, 8, 6, 3])
    if bugs.softmax_batch_max or bugs.log_of_zero:
        net.params["W3"] *= 2000  # logits in the thousands, as after a diverging learning rate
    forward = tensor_forward(X, y, task, bugs.relu_on_regression_output)
    return check_backprop(
        forward, net.params, lambda: net.loss_and_grads(X, y, task, bugs), batch_size=len(X)
    )


REGRESSION_BUGS = ("relu_on_regression_output", "weight_decay_sum")


BUG_NAMES = [f.name for f in fields(Bugs)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Each check prints the relative error per parameter and names the bug it points to.",
    )
    parser.add_argument(
        "bugs",
        nargs="*",
        metavar="BUG",
        help=f"bugs to switch on, one at a time (default: all of them): {', '.join(BUG_NAMES)}",
    )
    names = parser.parse_args(argv).bugs or BUG_NAMES
    unknown = [name for name in names if name not in BUG_NAMES]
    if unknown:  # checked here: argparse's choices reject an empty list for nargs="*"
        parser.error(f"unknown bug(s) {', '.join(unknown)}; choose among {', '.join(BUG_NAMES)}")
    for name in names:
        print(f"=== bug: {name} ".ljust(72, "="))
        task = "regression" if name in REGRESSION_BUGS else "classification"
        print(check(replace(Bugs(), **{name: True}), task))
        print()
    for task in ("classification", "regression"):
        print(f"=== the correct version, {task} ".ljust(72, "="))
        print(check(Bugs(), task))


if __name__ == "__main__":
    main()
