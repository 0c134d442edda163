"""nn: modules, losses, optimizers and data for tinygrad-edu."""

from . import data, datasets, init, optim
from .diagnose import diagnose
from .layers import (
    MLP,
    Activation,
    Dropout,
    Identity,
    LeakyReLU,
    Linear,
    PerUnitActivation,
    ReLU,
    Sigmoid,
    Tanh,
)
from .losses import binary_cross_entropy_with_logits, cross_entropy, mse_loss
from .module import IncompatibleKeys, Module, Parameter, Sequential, load

__all__ = [
    "MLP",
    "Activation",
    "Dropout",
    "Identity",
    "IncompatibleKeys",
    "LeakyReLU",
    "Linear",
    "Module",
    "Parameter",
    "PerUnitActivation",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "data",
    "datasets",
    "diagnose",
    "init",
    "load",
    "mse_loss",
    "optim",
]
