"""MNIST written the PyTorch way, end to end: it reaches about 98% test accuracy in 6 epochs.

A ``Module`` subclass, ``nn.functional`` as ``F``, ``nn.CrossEntropyLoss``,
``nn.optim.AdamW`` with a cosine schedule, ``nn.utils.clip_grad_norm_``, a
``DataLoader`` loop, and a checkpoint after every epoch that a later run
resumes from: the resumed run follows exactly the path an uninterrupted one
would have. Apart from the imports, the same script runs on PyTorch (see
docs/moving_to_pytorch.md).

    python examples/mnist_pytorch_style.py                          # 6 epochs, about 98%
    python examples/mnist_pytorch_style.py --checkpoint run.npz     # stop with Ctrl-C, run again: it resumes
    python examples/mnist_pytorch_style.py --epochs 1 --limit 10000 # a quick look
    python examples/mnist_pytorch_style.py --help
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

import nn  # noqa: E402
import nn.functional as F  # noqa: E402
from nn.data import DataLoader, TensorDataset  # noqa: E402
from nn.optim.lr_scheduler import CosineAnnealingLR  # noqa: E402
from tinygrad_edu import Tensor, manual_seed, no_grad  # noqa: E402


class Net(nn.Module):
    """784 -> hidden -> 10, ReLU and dropout in between."""

    def __init__(self, hidden: int = 256, dropout: float = 0.1) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(28 * 28, hidden)
        self.fc2 = nn.Linear(hidden, 10)
        self.dropout = dropout
        nn.init.kaiming_normal_(self.fc1.weight, nonlinearity="relu")  # He init: a ReLU follows fc1

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(self.fc1(self.flatten(x)))
        x = F.dropout(x, self.dropout, training=self.training)
        return self.fc2(x)


@dataclass
class Result:
    model: Net
    test_accuracy: float
    epochs_run: int  # in this call (fewer than asked when resuming)


def load_mnist(data_dir: str | None, limit: int | None, download: bool = True) -> tuple[TensorDataset, TensorDataset]:
    """Train and test sets, standardized with the training pixels' mean and std."""
    x_train, y_train, x_test, y_test = nn.datasets.mnist(root=data_dir, download=download)
    if limit is not None:
        x_train, y_train = x_train[:limit], y_train[:limit]
    train = nn.data.scale_pixels(x_train)
    mean, std = float(train.mean()), float(train.std())
    train = (train - mean) / std
    test = nn.data.scale_pixels(x_test, mean=mean, std=std)
    return TensorDataset(train, y_train), TensorDataset(test, y_test)


def evaluate(model: nn.Module, loader: DataLoader) -> float:
    """Fraction of correctly classified examples, in eval mode and without recording a graph."""
    model.eval()
    correct = 0
    with no_grad():
        for x, y in loader:
            correct += int((model(x).argmax(dim=1) == y).sum())
    model.train()
    return correct / len(loader.dataset)


def train(
    train_set: TensorDataset,
    test_set: TensorDataset,
    epochs: int = 6,
    batch_size: int = 128,
    lr: float = 2e-3,
    hidden: int = 256,
    seed: int = 0,
    checkpoint: str | None = None,
    log=print,
) -> Result:
    manual_seed(seed)
    model = Net(hidden)
    criterion = nn.CrossEntropyLoss()
    optimizer = nn.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    scheduler = CosineAnnealingLR(optimizer, T_max=epochs)
    loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, seed=seed)
    test_loader = DataLoader(test_set, batch_size=1000)

    start = 0
    if checkpoint is not None and os.path.exists(checkpoint):
        start = load_checkpoint(checkpoint, model, optimizer, scheduler)
        log(f"resumed from {checkpoint} after epoch {start}")
    for epoch in range(start, epochs):
        loader.epoch = epoch  # the shuffling order of this epoch, also when resuming
        manual_seed(seed + 1 + epoch)  # the dropout masks of this epoch, also when resuming
        total = 0.0
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
            optimizer.step()
            total += loss.item() * len(y)
        scheduler.step()
        accuracy = evaluate(model, test_loader)
        log(f"epoch {epoch + 1}/{epochs}  train loss {total / len(train_set):.4f}  test accuracy {accuracy:.2%}")
        if checkpoint is not None:
            save_checkpoint(checkpoint, model, optimizer, scheduler, epoch + 1)
    return Result(model, evaluate(model, test_loader), epochs - start)


# ---------------------------------------------------------------- checkpoints: one .npz, no pickle


def save_checkpoint(
    path: str, model: nn.Module, optimizer: nn.optim.Optimizer, scheduler: CosineAnnealingLR, epoch: int
) -> None:
    """Model, optimizer state and schedule position in one .npz, written atomically (temp file, then rename)."""
    arrays = {f"model/{name}": value for name, value in model.state_dict().items()}
    optimizer_state = optimizer.state_dict()
    settings = {"epoch": epoch, "param_groups": optimizer_state["param_groups"], "scheduler": scheduler.state_dict()}
    for index, state in optimizer_state["state"].items():
        for key, value in state.items():
            arrays[f"optimizer/{index}/{key}"] = np.asarray(value)
    arrays["settings"] = np.array(json.dumps(settings))  # a string array: loads without pickle
    handle, temporary = tempfile.mkstemp(suffix=".npz.tmp", dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def load_checkpoint(
    path: str, model: nn.Module, optimizer: nn.optim.Optimizer, scheduler: CosineAnnealingLR
) -> int:
    """Restore what ``save_checkpoint`` wrote; returns the number of epochs already done."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    settings = json.loads(str(arrays.pop("settings")))
    model.load_state_dict({name[len("model/") :]: v for name, v in arrays.items() if name.startswith("model/")})
    state: dict[int, dict[str, object]] = {}
    for name, value in arrays.items():
        if name.startswith("optimizer/"):
            _, index, key = name.split("/")
            state.setdefault(int(index), {})[key] = value
    optimizer.load_state_dict({"state": state, "param_groups": settings["param_groups"]})
    scheduler.load_state_dict(settings["scheduler"])
    return int(settings["epoch"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3, help="AdamW's learning rate (default 2e-3)")
    parser.add_argument("--hidden", type=int, default=256, help="hidden units (default 256)")
    parser.add_argument("--limit", type=int, default=None, help="train on the first LIMIT images only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None, help="directory with the MNIST files (default: see docs)")
    parser.add_argument("--checkpoint", default=None, help="save after every epoch to this .npz; resume from it")
    args = parser.parse_args(argv)
    train_set, test_set = load_mnist(args.data_dir, args.limit)
    result = train(
        train_set, test_set, args.epochs, args.batch_size, args.lr, args.hidden, args.seed, args.checkpoint
    )
    print(f"test accuracy {result.test_accuracy:.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
