"""nn: modules, losses, optimizers and data for tinygrad-edu."""

from . import data, datasets

__all__ = ["data", "datasets"]
