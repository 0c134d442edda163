"""tinygrad-edu: a small, readable reverse-mode autodiff engine on NumPy.

Only the primitives in ``primitives.py`` have hand-written derivatives;
everything else is a forward expression of them.
"""

__version__ = "0.1.0"  # the one place the version is written: pyproject.toml reads it from here

from .anomaly import AnomalyError, detect_anomaly
from .backprop_check import BackpropReport, check_backprop
from .collector import pause_gc
from .function import Function, enable_grad, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, GradcheckReport, gradcheck
from .graph import draw, to_dot
from .primitives import PRIMITIVES
from .records import CompositeCall, composite
from .rng import get_rng, manual_seed
from .state import get_default_dtype, set_default_dtype
from .tensor import Tensor, as_tensor, cat, linear, stack, where

__all__ = [
    "PRIMITIVES",
    "__version__",
    "AnomalyError",
    "BackpropReport",
    "CompositeCall",
    "Function",
    "GradcheckError",
    "GradcheckReport",
    "Tensor",
    "as_tensor",
    "cat",
    "check_backprop",
    "composite",
    "detect_anomaly",
    "draw",
    "enable_grad",
    "get_default_dtype",
    "get_rng",
    "gradcheck",
    "is_grad_enabled",
    "linear",
    "manual_seed",
    "no_grad",
    "pause_gc",
    "set_default_dtype",
    "stack",
    "to_dot",
    "where",
]
