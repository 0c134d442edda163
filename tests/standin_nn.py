"""A minimal stand-in for ``nn`` (its contract: named_modules, named_parameters, forward inside
``module_scope``), so the graph renderer is tested against the engine alone."""

from __future__ import annotations

import numpy as np

from tinygrad_edu import Tensor
from tinygrad_edu.function import module_scope


class Module:
    def __call__(self, x):
        with module_scope(self):
            return self.forward(x)

    def children(self):
        return [(k, v) for k, v in vars(self).items() if isinstance(v, Module)]

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, child in self.children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def named_parameters(self):
        for module_name, module in self.named_modules():
            for key, value in vars(module).items():
                if isinstance(value, Tensor) and value.requires_grad:
                    yield (f"{module_name}.{key}" if module_name else key), value


class Linear(Module):
    def __init__(self, n_in, n_out, rng):
        scale = 1 / np.sqrt(n_in)
        self.weight = Tensor(rng.uniform(-scale, scale, (n_out, n_in)), requires_grad=True, name="weight")
        self.bias = Tensor(np.zeros(n_out), requires_grad=True, name="bias")

    def forward(self, x):
        return x @ self.weight.T + self.bias


class ReLU(Module):
    def forward(self, x):
        return x.relu()


class Sigmoid(Module):
    def forward(self, x):
        return x.sigmoid()


class Sequential(Module):
    def __init__(self, *layers):
        self.layers = list(layers)

    def children(self):
        return [(str(i), m) for i, m in enumerate(self.layers)]

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class MLP(Module):
    def __init__(self, sizes, activation=ReLU, seed=0):
        rng = np.random.default_rng(seed)
        modules = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            modules.append(Linear(n_in, n_out, rng))
            if i < len(sizes) - 2:
                modules.append(activation())
        self.layers = Sequential(*modules)

    def forward(self, x):
        return self.layers(x)


def cross_entropy(logits, labels):
    log_probs = logits.log_softmax(axis=-1)
    return -log_probs[np.arange(len(labels)), labels].mean()
