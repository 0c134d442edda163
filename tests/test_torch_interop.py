"""The path to PyTorch: a state_dict moves between the two and gives the same outputs; AdamW steps alike.

torch is not a dependency: these tests are skipped when it is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest
from nn_gradcheck import float64  # noqa: F401  (a fixture, used by name)

import nn
import nn.functional as F
from tinygrad_edu import Tensor, manual_seed

torch = pytest.importorskip("torch", reason="torch is an optional oracle for the PyTorch interop tests")
torch.set_num_threads(1)  # tiny models: threads only add overhead on a shared machine


class OurNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(6, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(F.relu(self.fc1(x)))


class TorchNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(6, 16)
        self.fc2 = torch.nn.Linear(16, 3)

    def forward(self, x):
        return self.fc2(torch.nn.functional.relu(self.fc1(x)))


X = np.random.default_rng(0).normal(size=(8, 6)).astype(np.float32)


def test_our_state_dict_loads_into_torch_with_the_same_outputs() -> None:
    manual_seed(1)
    ours = OurNet()
    theirs = TorchNet()
    sd = ours.state_dict()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})
    with torch.no_grad():
        expected = theirs(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(ours(X).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(OurNet()(X).numpy(), expected)  # a different model would not match


def test_a_torch_state_dict_loads_into_ours_with_the_same_outputs() -> None:
    torch.manual_seed(2)
    theirs = TorchNet()
    ours = OurNet()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    with torch.no_grad():
        expected = theirs(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(ours(X).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_sequential_names_match_torch_sequential() -> None:
    ours = nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    with torch.no_grad():
        np.testing.assert_allclose(ours(X).numpy(), theirs(torch.from_numpy(X)).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("ours_cls", "torch_cls", "settings"),
    [
        (nn.optim.AdamW, "AdamW", {"lr": 0.05, "weight_decay": 0.1}),
        (nn.optim.AdamW, "AdamW", {"lr": 0.01, "betas": (0.8, 0.95), "eps": 1e-6}),
        (nn.optim.Adam, "Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ],
)
@pytest.mark.usefixtures("float64")
def test_optimizer_matches_torch_step_for_step(ours_cls, torch_cls, settings) -> None:
    torch.manual_seed(3)
    theirs = TorchNet().double()
    ours = OurNet()  # float64 parameters (the fixture), like theirs
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    ours_opt = ours_cls(ours.parameters(), **settings)
    theirs_opt = getattr(torch.optim, torch_cls)(theirs.parameters(), **settings)
    x = X.astype(np.float64)
    labels = np.array([0, 1, 2, 0, 1, 2, 1, 0])
    for _ in range(10):
        ours_opt.zero_grad()
        F.cross_entropy(ours(x), labels).backward()
        ours_opt.step()
        theirs_opt.zero_grad()
        torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(labels)).backward()
        theirs_opt.step()
        for name, value in theirs.state_dict().items():
            np.testing.assert_allclose(dict(ours.named_parameters())[name].data, value.numpy(), rtol=1e-9, atol=1e-12)
