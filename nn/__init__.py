"""nn: modules, losses, optimizers and data for tinygrad-edu.

PyTorch's spellings work too: ``import nn.functional as F``, ``nn.CrossEntropyLoss()``,
``nn.ModuleList``, ``nn.optim.AdamW``, ``nn.utils.clip_grad_norm_``, ``nn.data.DataLoader``
(see docs/moving_to_pytorch.md).
"""

from . import data, datasets, functional, init, optim, utils
from .diagnose import diagnose
from .layers import (
    MLP,
    Activation,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    PerUnitActivation,
    ReLU,
    Sigmoid,
    Tanh,
)
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
from .module import IncompatibleKeys, Module, ModuleDict, ModuleList, Parameter, Sequential, load

__all__ = [
    "MLP",
    "Activation",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "Identity",
    "IncompatibleKeys",
    "L1Loss",
    "LeakyReLU",
    "Linear",
    "MSELoss",
    "Module",
    "ModuleDict",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "PerUnitActivation",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "data",
    "datasets",
    "diagnose",
    "functional",
    "init",
    "l1_loss",
    "load",
    "mse_loss",
    "nll_loss",
    "optim",
    "utils",
]
