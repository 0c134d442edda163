"""Training and evaluation of models, as used by ``python -m nn.train``.

- `config`: `TrainConfig`, the settings of a run and the defaults.
- `loop`: `fit` (epochs of minibatch steps) and `evaluate` (large batches, no graph).
- `health`: checks that catch classic from-scratch failures early.
- `report`: the history as JSON/CSV and the confusion matrix; `plots`: pictures (needs matplotlib).
- `mnist`: the MNIST run that ties them together.
"""
