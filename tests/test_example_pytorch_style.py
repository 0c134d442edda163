"""examples/mnist_pytorch_style.py on a short budget: it learns, has --help, and resumes exactly."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from nn.datasets import MNISTNotFoundError

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "mnist_pytorch_style.py"


def load_example():
    spec = importlib.util.spec_from_file_location("mnist_pytorch_style", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules["mnist_pytorch_style"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


example = load_example()


@pytest.fixture(scope="module")
def small_mnist():
    """6,000 training images (of 60,000) and the full test set; skipped without the real data."""
    try:
        return example.load_mnist(None, limit=6000, download=False)
    except MNISTNotFoundError as error:
        pytest.skip(f"real MNIST not found (set TINYGRAD_EDU_DATA): {str(error).splitlines()[0]}")


def test_one_short_epoch_learns_the_digits(small_mnist) -> None:
    train_set, test_set = small_mnist
    lines: list[str] = []
    result = example.train(train_set, test_set, epochs=1, hidden=64, log=lines.append)
    assert result.test_accuracy >= 0.85  # chance is 10%; the full run reaches about 98%
    assert lines[0].startswith("epoch 1/1  train loss")


def test_a_stopped_run_resumes_from_its_checkpoint_exactly(small_mnist, tmp_path: Path) -> None:
    train_set, test_set = small_mnist
    train_set = example.TensorDataset(*(a[:1500] for a in train_set.arrays))
    settings = {"epochs": 2, "hidden": 32, "batch_size": 100}
    uninterrupted = example.train(train_set, test_set, **settings, log=lambda line: None)

    def interrupt_in_epoch_two(line: str) -> None:
        if line.startswith("epoch 2/2"):
            raise KeyboardInterrupt  # as if stopped with Ctrl-C, before epoch 2 was saved

    checkpoint = str(tmp_path / "run.npz")
    with pytest.raises(KeyboardInterrupt):
        example.train(train_set, test_set, **settings, checkpoint=checkpoint, log=interrupt_in_epoch_two)
    lines: list[str] = []
    resumed = example.train(train_set, test_set, **settings, checkpoint=checkpoint, log=lines.append)
    assert lines[0] == f"resumed from {checkpoint} after epoch 1" and resumed.epochs_run == 1
    for (name, value), (_, expected) in zip(resumed.model.named_parameters(), uninterrupted.model.named_parameters()):
        np.testing.assert_array_equal(value.numpy(), expected.numpy(), err_msg=name)


def test_help(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        example.main(["--help"])
    assert exit_info.value.code == 0
    assert "--checkpoint" in capsys.readouterr().out
