"""A gallery of small networks written the way people post them: NumPy forward, hand-derived backward.

Each network has ``params`` (in its own structure), ``forward(**params)`` (plain
NumPy, run unchanged on Tensors by check_backprop) and ``backward(bug)``: the
hand-derived gradients, correct for ``bug=None`` and with one classic mistake
otherwise. ``BUGS`` maps each bug to the mistake check_backprop must name.
Derivatives written here are the users' (tests may hold them; the library may not).
"""

from __future__ import annotations

import numpy as np

rng = np.random.default_rng(7)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def relu(z):
    return np.maximum(0, z)


def relu_mask(z):
    return (z > 0) * z


def leaky_relu(x):
    return (x > 0) * x + (x < 0) * 0.01 * x


def softmax(x):
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


def one_hot(labels, classes):
    return np.eye(classes)[labels]


class ColumnMajorBCE:
    """Andrew Ng style: X is (features, m), W1 @ X + b1 with b1 a column, sigmoid everywhere, BCE cost."""

    m = 12
    X = rng.standard_normal((3, m))
    Y = (rng.uniform(size=(1, m)) > 0.5).astype(float)
    params = {
        "W1": rng.standard_normal((4, 3)), "b1": rng.standard_normal((4, 1)) * 0.1,
        "W2": rng.standard_normal((1, 4)), "b2": np.zeros((1, 1)),
    }  # fmt: skip
    BUGS = {
        "sigmoid_1_minus_z": "sigmoid(z) * sigmoid(1 - z)",
        "sigmoid_of_activation": "sigmoid derivative evaluated at the activation",
        "sum_not_mean": "sum vs mean (factor = batch size)",
        "sign": "sign flip",
        "transposed": "transposed",
    }

    @classmethod
    def forward(cls, W1, b1, W2, b2):
        A1 = sigmoid(np.dot(W1, cls.X) + b1)
        A2 = sigmoid(np.dot(W2, A1) + b2)
        return -np.sum(cls.Y * np.log(A2) + (1 - cls.Y) * np.log(1 - A2)) / cls.m

    @classmethod
    def backward(cls, bug=None):
        W1, b1, W2, b2 = (cls.params[k] for k in ("W1", "b1", "W2", "b2"))
        Z1 = W1 @ cls.X + b1
        A1 = sigmoid(Z1)
        A2 = sigmoid(W2 @ A1 + b2)
        m = 1 if bug == "sum_not_mean" else cls.m
        dZ2 = A2 - cls.Y
        dW2 = dZ2 @ A1.T / m
        db2 = np.sum(dZ2, axis=1, keepdims=True) / m
        dA1 = W2.T @ dZ2
        if bug == "sigmoid_1_minus_z":
            dZ1 = dA1 * sigmoid(Z1) * sigmoid(1 - Z1)
        elif bug == "sigmoid_of_activation":
            dZ1 = dA1 * sigmoid(A1) * (1 - sigmoid(A1))
        else:
            dZ1 = dA1 * A1 * (1 - A1)
        dW1 = dZ1 @ cls.X.T / m
        db1 = np.sum(dZ1, axis=1, keepdims=True) / m
        grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
        if bug == "sign":
            grads = {k: -g for k, g in grads.items()}
        if bug == "transposed":
            grads["W1"] = grads["W1"].T
        return grads


class RowMajorSoftmax:
    """x @ W + b, their own relu (np.maximum) and row-max softmax, -sum(y * log(p)) / N with one-hot y."""

    N = 10
    X = rng.standard_normal((N, 4))
    Y = one_hot(rng.integers(0, 3, N), 3)
    params = {
        "W1": rng.standard_normal((4, 6)) * 0.7, "b1": rng.standard_normal(6) * 0.1,
        "W2": rng.standard_normal((6, 3)) * 0.7, "b2": np.zeros(3),
    }  # fmt: skip
    BUGS = {
        "relu_mask_of_activation": "ReLU derivative is 1 everywhere (mask all ones)",
        "relu_with_sigmoid_derivative": "sigmoid derivative used for a relu activation",
        "bias_not_summed": "missing sum over the batch",
        "sum_not_mean": "sum vs mean (factor = batch size)",
    }

    @classmethod
    def forward(cls, W1, b1, W2, b2):
        a1 = relu(np.dot(cls.X, W1) + b1)
        p = softmax(np.dot(a1, W2) + b2)
        return -np.sum(cls.Y * np.log(p)) / cls.N

    @classmethod
    def backward(cls, bug=None):
        W1, b1, W2, b2 = (cls.params[k] for k in ("W1", "b1", "W2", "b2"))
        z1 = cls.X @ W1 + b1
        a1 = np.maximum(0, z1)
        p = softmax(a1 @ W2 + b2)
        dz2 = (p - cls.Y) / (1 if bug == "sum_not_mean" else cls.N)
        dW2, db2 = a1.T @ dz2, dz2.sum(axis=0)
        da1 = dz2 @ W2.T
        if bug == "relu_mask_of_activation":
            dz1 = da1 * (a1 >= 0)
        elif bug == "relu_with_sigmoid_derivative":
            dz1 = da1 * sigmoid(z1) * (1 - sigmoid(z1))
        else:
            dz1 = da1 * (z1 > 0)
        db1 = dz1 if bug == "bias_not_summed" else dz1.sum(axis=0)
        if bug == "bias_not_summed":
            db2 = dz2
        return {"W1": cls.X.T @ dz1, "b1": db1, "W2": dW2, "b2": db2}


class ListsOfWeights:
    """Nielsen style: weights[1:] and biases[1:] lists, column vectors, sigmoid, quadratic cost 0.5*||a - y||^2."""

    sizes = [3, 5, 2]
    X = rng.standard_normal((3, 6))
    Y = rng.uniform(0, 1, (2, 6))
    weights = [None] + [rng.standard_normal((n, k)) for k, n in zip(sizes[:-1], sizes[1:])]
    biases = [None] + [rng.standard_normal((n, 1)) for n in sizes[1:]]
    params = {"weights": weights[1:], "biases": biases[1:]}
    names = {"weights": ["w1", "w2"], "biases": ["b1", "b2"]}
    BUGS = {
        "output_sigmoid_derivative_missing": "sigmoid derivative missing",
        "half_cost_times_two": "extra factor 2",
    }

    @classmethod
    def forward(cls, weights, biases):
        a = cls.X
        for w, b in zip(weights, biases):
            a = sigmoid(np.dot(w, a) + b)
        return 0.5 * np.sum((a - cls.Y) ** 2)

    @classmethod
    def backward(cls, bug=None):
        activations, zs = [cls.X], []
        for w, b in zip(cls.weights[1:], cls.biases[1:]):
            zs.append(w @ activations[-1] + b)
            activations.append(sigmoid(zs[-1]))
        a = activations[-1]
        delta = a - cls.Y
        if bug == "half_cost_times_two":
            delta = 2 * delta
        if bug != "output_sigmoid_derivative_missing":
            delta = delta * a * (1 - a)
        dw2 = delta @ activations[1].T
        db2 = delta.sum(axis=1, keepdims=True)
        delta = (cls.weights[2].T @ delta) * activations[1] * (1 - activations[1])
        return {"weights": [delta @ cls.X.T, dw2], "biases": [delta.sum(axis=1, keepdims=True), db2]}


class ThetaWithBiasRow:
    """A bias column of ones (np.insert) and theta matrices whose first row is the bias; MSE; weight decay."""

    m = 9
    X = rng.standard_normal((m, 3))
    y = rng.standard_normal((m, 1))
    lam = 0.3
    params = {"theta1": rng.standard_normal((4, 5)) * 0.5, "theta2": rng.standard_normal((6, 1)) * 0.5}
    BUGS = {
        "decay_sum_in_cost": "weight decay on sum(w) in the loss, on sum(w**2) in your gradient",
        "decay_missing": "weight-decay term missing",
        "transposed": "transposed",
    }
    decay_in_cost = "squares"

    @classmethod
    def forward(cls, theta1, theta2):
        a1 = np.insert(cls.X, 0, 1, axis=1)
        a2 = np.insert(sigmoid(np.dot(a1, theta1)), 0, 1, axis=1)
        h = np.dot(a2, theta2)
        cost = np.sum((h - cls.y) ** 2) / (2 * cls.m)
        if cls.decay_in_cost == "sum":
            return cost + cls.lam * (np.sum(theta1[1:]) + np.sum(theta2[1:]))
        penalty = np.sum([np.sum(theta[1:] ** 2) for theta in (theta1, theta2)])  # a list of one-element Tensors
        return cost + cls.lam / (2 * cls.m) * penalty

    @classmethod
    def backward(cls, bug=None):
        theta1, theta2 = cls.params["theta1"], cls.params["theta2"]
        a1 = np.insert(cls.X, 0, 1, axis=1)
        s = sigmoid(a1 @ theta1)
        a2 = np.insert(s, 0, 1, axis=1)
        d3 = (a2 @ theta2 - cls.y) / cls.m
        g2 = a2.T @ d3
        d2 = (d3 @ theta2[1:].T) * s * (1 - s)
        g1 = a1.T @ d2
        if bug != "decay_missing":
            for g, theta in ((g1, theta1), (g2, theta2)):
                g[1:] += cls.lam / cls.m * theta[1:]
        if bug == "transposed":
            g1 = g1.T
        return {"theta1": g1, "theta2": g2}


class LeakyRegression:
    """Their own leaky ReLU (mask arithmetic), a 10-output regression, np.mean over the (N, 10) errors."""

    N = 16
    X = rng.standard_normal((N, 5))
    Y = rng.standard_normal((N, 10))
    params = {"W1": rng.standard_normal((5, 8)), "b1": rng.standard_normal(8) * 0.1,
              "W2": rng.standard_normal((8, 10)) * 0.3, "b2": np.zeros(10)}  # fmt: skip
    BUGS = {
        "slope_dropped": "leaky ReLU derivative without the slope",
        "mean_over_batch_only": "mean over every element, gradient divided by the batch size only",
    }

    @classmethod
    def forward(cls, W1, b1, W2, b2):
        h = leaky_relu(cls.X @ W1 + b1)
        return np.mean((np.dot(h, W2) + b2 - cls.Y) ** 2)

    @classmethod
    def backward(cls, bug=None):
        W1, b1, W2, b2 = (cls.params[k] for k in ("W1", "b1", "W2", "b2"))
        z = cls.X @ W1 + b1
        h = leaky_relu(z)
        count = cls.N if bug == "mean_over_batch_only" else cls.Y.size
        d_out = 2 * (h @ W2 + b2 - cls.Y) / count
        dh = d_out @ W2.T
        dz = dh * (z > 0) if bug == "slope_dropped" else dh * np.where(z > 0, 1.0, 0.01)
        return {"W1": cls.X.T @ dz, "b1": dz.sum(axis=0), "W2": h.T @ d_out, "b2": d_out.sum(axis=0)}


class TanhRegression:
    """np.tanh hidden layer, linear output, MSE as the mean of squared errors of one output."""

    N = 12
    X = rng.standard_normal((N, 2))
    y = np.sin(X[:, :1]) + 0.1 * rng.standard_normal((N, 1))
    params = {"W1": rng.standard_normal((2, 7)), "b1": rng.standard_normal(7) * 0.1,
              "W2": rng.standard_normal((7, 1)), "b2": np.zeros(1)}  # fmt: skip
    BUGS = {
        "tanh_of_activation": "tanh derivative evaluated at the activation",
        "tanh_derivative_missing": "tanh derivative missing",
        "missing_two": "missing factor 2",
    }

    @classmethod
    def forward(cls, W1, b1, W2, b2):
        h = np.tanh(np.dot(cls.X, W1) + b1)
        return np.mean((np.dot(h, W2) + b2 - cls.y) ** 2)

    @classmethod
    def backward(cls, bug=None):
        W1, b1, W2, b2 = (cls.params[k] for k in ("W1", "b1", "W2", "b2"))
        h = np.tanh(cls.X @ W1 + b1)
        d_out = (1 if bug == "missing_two" else 2) * (h @ W2 + b2 - cls.y) / cls.N
        dh = d_out @ W2.T
        if bug == "tanh_of_activation":
            dz = dh * (1 - np.tanh(h) ** 2)
        elif bug == "tanh_derivative_missing":
            dz = dh
        else:
            dz = dh * (1 - h**2)
        return {"W1": cls.X.T @ dz, "b1": dz.sum(axis=0), "W2": h.T @ d_out, "b2": d_out.sum(axis=0)}


class SoftmaxRegression:
    """One layer, logits in the hundreds: their softmax shifts by the whole batch's max in the buggy version."""

    N = 8
    X = rng.standard_normal((N, 4)) * 30
    Y = one_hot(rng.integers(0, 3, N), 3)
    params = {"W": rng.standard_normal((4, 3)) * 10, "b": np.zeros(3)}
    BUGS = {"batch_max": "softmax shifted by the whole batch's max", "sign": "sign flip"}

    @classmethod
    def forward(cls, W, b):
        z = np.dot(cls.X, W) + b
        log_p = z - np.max(z, axis=1, keepdims=True)
        log_p = log_p - np.log(np.sum(np.exp(log_p), axis=1, keepdims=True))
        return -np.sum(cls.Y * log_p) / cls.N

    @classmethod
    def backward(cls, bug=None):
        z = cls.X @ cls.params["W"] + cls.params["b"]
        e = np.exp(z - (np.max(z) if bug == "batch_max" else np.max(z, axis=1, keepdims=True)))
        with np.errstate(all="ignore"):
            p = e / np.sum(e, axis=1, keepdims=True)
        dz = (p - cls.Y) / cls.N
        grads = {"W": cls.X.T @ dz, "b": dz.sum(axis=0)}
        return {k: -g for k, g in grads.items()} if bug == "sign" else grads


class ActivationArgument:
    """The forward gets its activation as an argument (relu via (z > 0) * z); the backward must match it."""

    N = 10
    X = rng.standard_normal((N, 3))
    y = (rng.uniform(size=(N, 1)) > 0.5).astype(float)
    params = {"W1": rng.standard_normal((3, 6)), "W2": rng.standard_normal((6, 1))}
    BUGS = {"backward_uses_sigmoid": "sigmoid derivative used for a relu activation"}

    @classmethod
    def forward(cls, W1, W2, activation=relu_mask):
        a1 = activation(np.dot(cls.X, W1))
        a2 = sigmoid(np.dot(a1, W2))
        return -np.mean(cls.y * np.log(a2) + (1 - cls.y) * np.log(1 - a2))

    @classmethod
    def backward(cls, bug=None):
        W1, W2 = cls.params["W1"], cls.params["W2"]
        z1 = cls.X @ W1
        a1 = relu_mask(z1)
        a2 = sigmoid(a1 @ W2)
        dz2 = (a2 - cls.y) / cls.N
        da1 = dz2 @ W2.T
        if bug == "backward_uses_sigmoid":
            dz1 = da1 * sigmoid(z1) * (1 - sigmoid(z1))
        else:
            dz1 = da1 * (z1 > 0)
        return {"W1": cls.X.T @ dz1, "W2": a1.T @ dz2}


class SoftmaxWithBinaryCost:
    """A softmax output whose cost is the binary cross-entropy summed over classes (as a course's template)."""

    m = 10
    X = rng.standard_normal((m, 4))
    Y = one_hot(rng.integers(0, 3, m), 3)
    params = {"W1": rng.standard_normal((4, 5)), "W2": rng.standard_normal((5, 3))}
    BUGS = {"categorical_gradient": "categorical cross-entropy gradient for a binary cross-entropy cost"}

    @classmethod
    def forward(cls, W1, W2):
        a2 = sigmoid(np.dot(cls.X, W1))
        a3 = softmax(np.dot(a2, W2))
        return -np.sum(cls.Y * np.log(a3) + (1 - cls.Y) * np.log(1 - a3)) / cls.m

    @classmethod
    def backward(cls, bug=None):
        W1, W2 = cls.params["W1"], cls.params["W2"]
        a2 = sigmoid(cls.X @ W1)
        a3 = softmax(a2 @ W2)
        if bug == "categorical_gradient":
            dz3 = (a3 - cls.Y) / cls.m
        else:
            da3 = (-cls.Y / a3 + (1 - cls.Y) / (1 - a3)) / cls.m
            dz3 = a3 * (da3 - np.sum(da3 * a3, axis=1, keepdims=True))
        dz2 = dz3 @ W2.T * a2 * (1 - a2)
        return {"W1": cls.X.T @ dz2, "W2": a2.T @ dz3}


class ReluGradInPlace:
    """A three-layer regression whose reluGrad writes the mask into the activation it is given."""

    N = 12
    X = rng.standard_normal((N, 3))
    y = rng.standard_normal((N, 1))
    params = {"W1": rng.standard_normal((3, 6)), "W2": rng.standard_normal((6, 5)), "W3": rng.standard_normal((5, 1))}
    BUGS = {"mask_written_into_a2": "saved activation overwritten by its derivative"}

    @classmethod
    def forward(cls, W1, W2, W3):
        a1 = relu(np.dot(cls.X, W1))
        a2 = relu(np.dot(a1, W2))
        return np.mean((np.dot(a2, W3) - cls.y) ** 2)

    @staticmethod
    def relu_grad(a):
        a[a > 0] = 1  # in place, as in the thread
        a[a <= 0] = 0
        return a

    @classmethod
    def backward(cls, bug=None):
        W1, W2, W3 = cls.params["W1"], cls.params["W2"], cls.params["W3"]
        a1 = np.maximum(0, cls.X @ W1)
        a2 = np.maximum(0, a1 @ W2)
        delta3 = 2 * (a2 @ W3 - cls.y) / cls.N
        mask2 = cls.relu_grad(a2) if bug == "mask_written_into_a2" else (a2 > 0)
        delta2 = delta3 @ W3.T * mask2
        delta1 = delta2 @ W2.T * (a1 > 0)
        return {"W1": cls.X.T @ delta1, "W2": a1.T @ delta2, "W3": a2.T @ delta3}


NETWORKS = [ColumnMajorBCE, RowMajorSoftmax, ListsOfWeights, ThetaWithBiasRow, LeakyRegression,
            TanhRegression, SoftmaxRegression, ActivationArgument, SoftmaxWithBinaryCost, ReluGradInPlace]  # fmt: skip
