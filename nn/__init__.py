"""nn: modules, losses, optimizers and data for tinygrad-edu."""
