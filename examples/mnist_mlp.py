"""Train an MLP on MNIST to >= 98% test accuracy: the same as ``python -m nn.train mnist``.

    python examples/mnist_mlp.py                  # the default configuration
    python examples/mnist_mlp.py --help           # every option
    python examples/mnist_mlp.py --epochs 1 --limit 10000 --hidden 64

The options are documented in docs/training_mnist.md.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from nn.train import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["mnist", *sys.argv[1:]]))
