"""Hand-written NumPy MLP for MNIST: the yardstick the framework is benchmarked against.

This is what tinygrad-edu saves you from writing: every gradient below is derived by hand.
It is written to be fast *and* honest, so that "within 1.3x of NumPy" means something:

* float32 end to end.  The dtype is taken from the parameters (tests run it in float64);
  inputs of another dtype are rejected instead of being silently cast or promoted.
* Layout mirrors PyTorch's ``nn.Linear``: ``W`` has shape ``(out, in)``, ``b`` has shape
  ``(out,)`` and ``y = x @ W.T + b``, so both implementations can start from the same arrays.
* All parameters live in one contiguous vector (``model.flat_params``) and all gradients
  in another (``model.flat_grads``); ``W``/``b`` are views into them.  The optimizer then
  updates every parameter with a handful of whole-vector NumPy calls instead of a handful
  per parameter, which measurably cuts Python/dispatch overhead.
* Activations and gradients are written into buffers preallocated per batch size
  (``out=``), the per-row max is subtracted before ``exp`` and the loss is taken from the
  log-softmax, so there is no overflow and no ``log(0)``.
* The gradient w.r.t. the input images is never computed: nothing needs it.

Typical use::

    params = init_params([784, 256, 128, 10], "relu", seed=0)
    model = NumpyMLP(params, "relu")
    opt = Adam(lr=1e-3)
    order = np.random.default_rng(1).permutation(len(x))
    mean_loss = train_epoch(model, opt, x, y, batch_size=128, order=order)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "Adam",
    "NumpyMLP",
    "SGD",
    "accuracy",
    "init_params",
    "train_epoch",
]

Params = list[tuple[np.ndarray, np.ndarray]]
ACTIVATIONS = ("sigmoid", "relu")


def init_params(
    sizes: Sequence[int],
    activation: str,
    seed: int | np.random.Generator = 0,
    dtype: type | np.dtype = np.float32,
) -> Params:
    """Create ``[(W, b), ...]`` in nn.Linear layout, so both benchmarked implementations can start equal.

    Every layer (the output layer included) uses the scheme that suits the network's
    hidden activation:

    * ``"relu"``: He/Kaiming normal, ``W ~ N(0, 2 / fan_in)``;
    * ``"sigmoid"``: Xavier/Glorot uniform, ``W ~ U(-a, a)`` with ``a = sqrt(6 / (fan_in + fan_out))``.

    Biases are zero.  Numbers are drawn in float64 from ``np.random.default_rng(seed)``
    (one ``W`` after another, first layer first) and then cast to ``dtype``, so the same
    seed gives the same weights in float32 and float64.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    params: Params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        if activation == "relu":
            w = rng.normal(0.0, math.sqrt(2.0 / fan_in), size=(fan_out, fan_in))
        else:
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            w = rng.uniform(-limit, limit, size=(fan_out, fan_in))
        params.append((w.astype(dtype), np.zeros(fan_out, dtype=dtype)))
    return params


class _Workspace:
    """Buffers for one batch size, allocated once and reused every step."""

    def __init__(self, batch: int, widths: Sequence[int], activation: str, dtype: np.dtype) -> None:
        # acts[i]: output of layer i (post-activation for hidden layers, logits for the last).
        self.acts = [np.empty((batch, n), dtype) for n in widths[1:]]
        # dacts[i]: dLoss/d(acts[i]) for the hidden layers, turned in place into dLoss/d(pre-activation).
        self.dacts = [np.empty((batch, n), dtype) for n in widths[1:-1]]
        # Scratch for the activation's derivative: sigmoid needs a(1 - a), ReLU a mask a > 0.
        scratch_dtype = dtype if activation == "sigmoid" else np.dtype(bool)
        self.scratch = [np.empty((batch, n), scratch_dtype) for n in widths[1:-1]]
        self.probs = np.empty((batch, widths[-1]), dtype)
        self.rows = np.arange(batch)
        self.ones = np.ones(batch, dtype)  # db = ones @ dz: a BLAS call, cheaper than dz.sum(axis=0)


class NumpyMLP:
    """Fully connected net ``Linear -> act -> ... -> Linear`` with softmax cross-entropy (batch mean).

    ``params`` is copied (into one flat vector), so the caller's arrays are never modified;
    ``model.params`` gives the live ``(W, b)`` views.
    """

    def __init__(self, params: Sequence[tuple[np.ndarray, np.ndarray]], activation: str) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        self.activation = activation
        self.dtype = np.dtype(params[0][0].dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"parameters must be floating point, got {self.dtype}")
        widths = [params[0][0].shape[1]]
        for w, b in params:
            if w.dtype != self.dtype or b.dtype != self.dtype:
                raise TypeError("all parameters must have the same dtype")
            if w.ndim != 2 or w.shape[1] != widths[-1] or b.shape != (w.shape[0],):
                raise ValueError(f"bad layer shapes W{w.shape}, b{b.shape} after width {widths[-1]}")
            widths.append(w.shape[0])
        self.widths = widths

        n_total = sum(w.size + b.size for w, b in params)
        self.flat_params = np.empty(n_total, self.dtype)
        self.flat_grads = np.zeros(n_total, self.dtype)
        self.params = self._views(self.flat_params)
        self.grads = self._views(self.flat_grads)
        for (w, b), (src_w, src_b) in zip(self.params, params):
            w[...] = src_w
            b[...] = src_b
        self._workspaces: dict[int, _Workspace] = {}

    def _views(self, flat: np.ndarray) -> Params:
        """Cut a flat vector into per-layer ``(W, b)`` views (no copies)."""
        views: Params = []
        start = 0
        for n_in, n_out in zip(self.widths[:-1], self.widths[1:]):
            w = flat[start : start + n_out * n_in].reshape(n_out, n_in)
            start += n_out * n_in
            b = flat[start : start + n_out]
            start += n_out
            views.append((w, b))
        return views

    def _check_dtype(self, x: np.ndarray) -> None:
        """Refuse mixed dtypes: NumPy would silently promote (or cast) instead of failing."""
        if x.dtype != self.dtype:
            raise TypeError(f"inputs are {x.dtype} but parameters are {self.dtype}: cast once, up front")

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Logits for ``x`` (allocates; meant for evaluation, not the training hot path)."""
        self._check_dtype(x)
        h = x
        last = len(self.params) - 1
        for i, (w, b) in enumerate(self.params):
            h = h @ w.T + b
            if i < last and self.activation == "relu":
                h = np.maximum(h, 0.0)
            elif i < last:
                with np.errstate(over="ignore"):  # exp(-h) = inf gives the right limit, 0
                    h = 1.0 / (1.0 + np.exp(-h))
        return h

    def loss_and_grads(self, xb: np.ndarray, yb: np.ndarray) -> tuple[float, Params]:
        """Mean cross-entropy of the batch and its gradients, derived by hand.

        Returns the loss and ``self.grads`` (views into ``self.flat_grads``), which the
        next call overwrites.
        """
        self._check_dtype(xb)
        batch = xb.shape[0]
        ws = self._workspaces.get(batch)
        if ws is None:
            ws = self._workspaces[batch] = _Workspace(batch, self.widths, self.activation, self.dtype)
        sigmoid = self.activation == "sigmoid"
        acts = ws.acts
        last = len(self.params) - 1

        # Forward: acts[i] = act(acts[i-1] @ W.T + b); matmul reads W.T as a transposed view (no copy).
        h = xb
        for i, (w, b) in enumerate(self.params):
            z = acts[i]
            np.matmul(h, w.T, out=z)
            z += b
            if i < last:
                if sigmoid:
                    # 1 / (1 + exp(-z)); exp(-z) overflows to inf for very negative z,
                    # and 1 / inf = 0 is exactly the right limit, so silence the warning.
                    np.negative(z, out=z)
                    with np.errstate(over="ignore"):
                        np.exp(z, out=z)
                    z += 1.0
                    np.reciprocal(z, out=z)
                else:
                    np.maximum(z, 0.0, out=z)
            h = z

        # Softmax cross-entropy from the logits, via the log-softmax:
        #   loss_i = log(sum_j exp(z_ij - m_i)) - (z_iy - m_i),  m_i = max_j z_ij
        # After the shift every row has a 0, so the sum is >= 1: no overflow, no log(0).
        logits, probs, rows = acts[last], ws.probs, ws.rows
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=probs)
        sums = probs.sum(axis=1, keepdims=True)
        loss = float(np.log(sums).sum() - logits[rows, yb].sum()) / batch  # .sum() is cheaper than .mean()

        # dLoss/dlogits = (softmax - onehot(y)) / batch.  The 1/batch is folded into the
        # normalisation, and dz is written over the probabilities.
        sums *= batch
        dz = np.divide(probs, sums, out=probs)
        dz[rows, yb] -= 1.0 / batch

        # Backward, last layer first:  dW = dz.T @ a_prev,  db = sum over rows of dz,  da_prev = dz @ W.
        for i in range(last, -1, -1):
            w = self.params[i][0]
            dw, db = self.grads[i]
            a_prev = acts[i - 1] if i > 0 else xb
            np.matmul(dz.T, a_prev, out=dw)
            np.matmul(ws.ones, dz, out=db)  # = dz.sum(axis=0)
            if i == 0:
                break  # no gradient w.r.t. the images: nobody needs it
            da = np.matmul(dz, w, out=ws.dacts[i - 1])
            scratch = ws.scratch[i - 1]
            if sigmoid:
                # sigmoid'(z) = a (1 - a)
                np.subtract(1.0, a_prev, out=scratch)
                scratch *= a_prev
                da *= scratch
            else:
                # relu'(z) = 1 where a > 0, else 0
                np.greater(a_prev, 0.0, out=scratch)
                da *= scratch
            dz = da
        return loss, self.grads


class SGD:
    """Plain SGD, ``p -= lr * g``, applied in place to the whole flat parameter vector."""

    def __init__(self, lr: float) -> None:
        self.lr = float(lr)
        self._tmp = np.empty(0, np.float32)  # resized to the gradients on the first step

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        """Update ``params`` in place (two NumPy calls, no temporaries after the first step)."""
        if self._tmp.shape != grads.shape or self._tmp.dtype != grads.dtype:
            self._tmp = np.empty_like(grads)
        np.multiply(grads, self.lr, out=self._tmp)
        params -= self._tmp


class Adam:
    """Adam with PyTorch's update rule (no weight decay, no amsgrad), in place on the flat vector.

    ``m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= lr * m_hat / (sqrt(v_hat) + eps)``
    with ``m_hat = m / (1 - b1^t)`` and ``v_hat = v / (1 - b2^t)``.
    """

    def __init__(
        self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
    ) -> None:
        self.lr = float(lr)
        self.beta1, self.beta2 = (float(b) for b in betas)
        self.eps = float(eps)
        self.t = 0
        # State, (re)allocated to match the parameters on the first step.
        self.m = self.v = self._tmp = np.empty(0, np.float32)

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        """Update ``params`` in place: twelve whole-vector NumPy calls, no temporaries after step 1."""
        if self.m.shape != params.shape or self.m.dtype != params.dtype:
            self.m = np.zeros_like(params)
            self.v = np.zeros_like(params)
            self._tmp = np.empty_like(params)
            self.t = 0
        m, v, tmp = self.m, self.v, self._tmp
        b1, b2 = self.beta1, self.beta2
        self.t += 1
        # Python floats, not NumPy float64 scalars: these never promote float32 arrays.
        bias1 = 1.0 - b1**self.t
        bias2 = 1.0 - b2**self.t

        m *= b1  # m = b1 m + (1 - b1) g
        np.multiply(grads, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2  # v = b2 v + (1 - b2) g^2
        np.multiply(grads, grads, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        # sqrt(v_hat) + eps == (sqrt(v) + eps * sqrt(bias2)) / sqrt(bias2): exactly the same
        # rule, with the 1/sqrt(bias2) moved into the scalar step size (saves one pass).
        # (Storing m / (1-b1) and v / (1-b2) instead would save two more passes, ~10% of
        # this step, but the state would no longer be PyTorch's m and v; not done.)
        np.sqrt(v, out=tmp)
        tmp += self.eps * math.sqrt(bias2)
        np.divide(m, tmp, out=tmp)
        tmp *= self.lr * math.sqrt(bias2) / bias1
        params -= tmp


def train_epoch(
    model: NumpyMLP,
    opt: SGD | Adam,
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    order: np.ndarray,
    drop_last: bool = False,
) -> float:
    """One pass over ``x[order]`` in mini-batches; returns the mean of the batch losses.

    ``order`` is given (not drawn here) so another implementation can visit the same
    batches in the same order.  The last, smaller batch is kept unless ``drop_last``
    (like PyTorch's DataLoader).  Gathering each batch with fancy indexing measured
    faster than permuting the whole data set up front or ``np.take(..., out=)``.
    """
    n = len(order)
    stop = n - n % batch_size if drop_last else n
    total, count = 0.0, 0
    params, grads = model.flat_params, model.flat_grads
    for start in range(0, stop, batch_size):
        idx = order[start : start + batch_size]
        loss, _ = model.loss_and_grads(x[idx], y[idx])
        opt.step(params, grads)
        total += loss
        count += 1
    return total / max(count, 1)


def accuracy(model: NumpyMLP, x: np.ndarray, y: np.ndarray, batch_size: int = 10_000) -> float:
    """Fraction of rows of ``x`` whose largest logit is at the label (evaluated in chunks to bound memory)."""
    correct = 0
    for start in range(0, len(x), batch_size):
        logits = model.forward(x[start : start + batch_size])
        correct += int((logits.argmax(axis=1) == y[start : start + batch_size]).sum())
    return correct / max(len(x), 1)
