"""``pause_gc`` switches the cyclic collector off only inside its block; the library never does on its own."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import numpy as np
import pytest

import nn
import tinygrad_edu as tg
from tinygrad_edu import Tensor, pause_gc


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    gc.enable() if was_enabled else gc.disable()


def test_off_inside_and_back_on_after() -> None:
    gc.enable()
    with pause_gc():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_stays_off_when_it_was_off() -> None:
    gc.disable()
    with pause_gc():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_nested_and_reused_blocks_restore_the_outer_state() -> None:
    gc.enable()
    pause = pause_gc()
    with pause:
        with pause:
            assert not gc.isenabled()
        assert not gc.isenabled()  # still inside the outer block
    assert gc.isenabled()


def test_restored_after_an_exception_and_as_a_decorator() -> None:
    gc.enable()
    with pytest.raises(ZeroDivisionError), pause_gc():
        1 / 0  # noqa: B018
    assert gc.isenabled()

    @pause_gc()
    def build() -> bool:
        return gc.isenabled()

    assert build() is False
    assert gc.isenabled()


def test_the_graph_is_still_freed_and_differentiated_inside() -> None:
    x = Tensor(np.ones(16), requires_grad=True)
    with pause_gc():
        y = x
        for _ in range(1000):
            y = y * 1.001
        y.sum().backward()
    np.testing.assert_allclose(x.grad, np.full(16, 1.001**1000), rtol=1e-4)


def test_the_library_never_touches_the_collector_by_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """A whole training step, a gradcheck and a drawing: no call of any of the collector's switches."""
    calls: list[str] = []
    for name in ("disable", "enable", "freeze", "set_threshold", "collect"):
        monkeypatch.setattr(gc, name, lambda *args, _name=name, **kwargs: calls.append(_name))
    tg.manual_seed(0)
    model = nn.MLP([4, 8, 3])
    optimizer = nn.optim.Adam(model.parameters(), lr=1e-2)
    loss = nn.cross_entropy(model(Tensor(np.random.default_rng(0).random((5, 4)))), np.array([0, 1, 2, 0, 1]))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    tg.gradcheck(lambda t: (t * t).tanh().sum(), Tensor(np.linspace(-1, 1, 3), dtype=np.float64, requires_grad=True))
    tg.to_dot(loss)
    assert calls == []
