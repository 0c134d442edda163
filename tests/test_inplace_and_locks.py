"""In-place updates and edits: the manual SGD step works, and nothing a graph saved changes silently."""

import numpy as np
import pytest

import nn
from tinygrad_edu import Tensor, as_tensor, no_grad

# ---------------------------------------------------------------- in-place operators


def test_manual_sgd_step_under_no_grad_updates_the_parameter_object():
    w = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    before = w
    (w * w).sum().backward()
    with no_grad():
        w -= 0.1 * w.grad
    assert w is before and w.requires_grad and w.is_leaf
    np.testing.assert_allclose(w.data, [0.8, 1.6, 2.4], rtol=1e-6)


def test_loop_over_model_parameters_changes_the_model():
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    before = {name: value.copy() for name, value in model.state_dict().items()}
    names = [name for name, _ in model.named_parameters()]
    loss = model(Tensor(np.ones((4, 3)))).sum()
    loss.backward()
    with no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    assert [name for name, _ in model.named_parameters()] == names  # still parameters of the model
    for name, value in model.state_dict().items():
        param = dict(model.named_parameters())[name]
        np.testing.assert_allclose(value, before[name] - 0.1 * param.grad, rtol=1e-6)


@pytest.mark.parametrize("update", [
    lambda w: w.__isub__(1.0), lambda w: w.__iadd__(1.0), lambda w: w.__imul__(2.0),
    lambda w: w.__itruediv__(2.0), lambda w: w.zero_(), lambda w: w.fill_(3.0),
])  # fmt: skip
def test_in_place_update_of_a_parameter_while_recording_shows_the_no_grad_spelling(update):
    w = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"with no_grad\(\):"):
        update(w)
    np.testing.assert_array_equal(w.data, [1.0, 2.0])


def test_accumulating_a_loss_in_the_forward_gives_the_right_graph():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = Tensor(0.0)
    for k in range(1, 4):
        loss += (x * k).sum()  # d/dx = 1 + 2 + 3
    h = x * x
    h /= 2.0  # d/dx (x^2 / 2) = x
    h *= 4.0
    h -= x
    (loss + h.sum()).backward()
    np.testing.assert_allclose(x.grad, 6.0 + 4.0 * np.array([1.0, 2.0, 3.0]) - 1.0)


def test_in_place_on_constants_keeps_the_object_and_changes_the_values():
    total = Tensor([0.0, 0.0])
    same = total
    total += np.array([1.0, 2.0])
    total *= 3
    assert total is same
    np.testing.assert_array_equal(total.data, [3.0, 6.0])
    counts = Tensor([1, 2])
    counts += 1
    np.testing.assert_array_equal(counts.data, [2, 3])
    assert counts.dtype == np.int64 or counts.dtype.kind == "i"


def test_in_place_rules_for_shapes_dtypes_and_values():
    t = Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"shape \(2,\).*in place.*\(3, 2\)"):
        t += np.ones((3, 2))
    with pytest.raises(TypeError, match="float64.*in place.*int"):
        labels = Tensor([1, 2])
        labels /= 2
    with pytest.raises(TypeError, match="number"):
        t.fill_("0")
    assert t.zero_() is t and not t.data.any()
    assert t.fill_(2.5) is t and (t.data == 2.5).all()


def test_zero_on_a_computed_tensor_while_recording_is_refused():
    h = Tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="computed in the graph"):
        h.zero_()


# ---------------------------------------------------------------- saved arrays are locked


def test_editing_an_input_before_backward_is_refused_and_backward_is_right():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    with pytest.raises(ValueError, match="read-only"):
        x.data[...] = 10
    y.backward()
    np.testing.assert_allclose(x.grad, [2.0, 4.0, 6.0])


@pytest.mark.parametrize("edit", [
    lambda x, y: y.data.fill(0),  # zeroing exp's saved output
    lambda x, y: y.numpy().__setitem__(0, 5.0),  # writing through numpy()
    lambda x, y: x.data.__isub__(1),  # an "optimizer step" before backward
])  # fmt: skip
def test_edits_of_saved_arrays_before_backward_are_refused(edit):
    x = Tensor([0.5, 1.0], requires_grad=True)
    y = x.exp()
    loss = (y * x).sum()  # d/dx x e^x = (1 + x) e^x
    with pytest.raises(ValueError, match="read-only"):
        edit(x, y)
    loss.backward()
    np.testing.assert_allclose(x.grad, (1 + np.array([0.5, 1.0])) * np.exp([0.5, 1.0]), rtol=1e-6)


def test_a_view_saved_for_backward_locks_the_array_it_views():
    x = Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    loss = (x.reshape(2, 2) ** 2).sum()
    with pytest.raises(ValueError, match="read-only"):
        x.data[0] = 7.0
    loss.backward()
    np.testing.assert_allclose(x.grad, [2.0, 4.0, 6.0, 8.0])


def test_arrays_are_writable_again_after_backward_and_after_the_graph_is_dropped():
    w = Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward()
    w.data -= 0.1 * w.grad  # the classic update after backward
    np.testing.assert_allclose(w.data, [0.8, 1.6], rtol=1e-6)
    unused = (w.exp() * w).sum()
    del unused  # never backpropagated: the graph is freed, and with it the lock
    w.data[...] = 0.0
    assert not w.data.any()


def test_an_array_saved_by_two_graphs_stays_locked_until_both_are_done():
    w = Tensor([1.0, 2.0], requires_grad=True)
    first, second = (w * w).sum(), (w * 3.0 * w).sum()
    first.backward()
    with pytest.raises(ValueError, match="read-only"):
        w.data[0] = 5.0
    second.backward()
    w.data[0] = 5.0
    np.testing.assert_allclose(w.grad, [2.0 + 6.0, 4.0 + 12.0])


def test_optimizer_step_while_an_evaluation_graph_is_still_referenced():
    for make in (lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: nn.optim.Adam(ps, lr=0.1)):
        model = nn.Linear(3, 2)
        optimizer = make(model.parameters())
        x = Tensor(np.ones((4, 3)))
        evaluation = model(x).sum()  # built without no_grad, still referenced below
        weight_then = model.weight.data.copy()
        model(x).sum().backward()
        optimizer.step()
        assert not np.allclose(model.weight.data, weight_then)
        model.zero_grad()
        evaluation.backward()  # the old graph still has the values it was computed from
        np.testing.assert_allclose(model.weight.grad, np.full((2, 3), 4.0))
        np.testing.assert_array_equal(weight_then.shape, model.weight.shape)


def test_retain_graph_backward_twice_and_an_update_in_between():
    w = Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    with no_grad():
        w -= 0.5 * w.grad  # the retained graph keeps the values it saved
    loss.backward()
    np.testing.assert_allclose(w.grad, [4.0, 8.0])  # two passes at the recorded values, accumulated
    np.testing.assert_allclose(w.data, [0.0, 0.0])


def test_a_user_array_that_was_read_only_stays_read_only():
    values = np.array([1.0, 2.0], dtype=np.float32)
    values.setflags(write=False)
    w = Tensor([1.0, 1.0], requires_grad=True)
    (w * as_tensor(values)).sum().backward()
    assert not values.flags.writeable
    np.testing.assert_array_equal(w.grad, values)


# ---------------------------------------------------------------- Tensor(data) always copies


def test_tensor_from_a_memmap_does_not_write_into_the_file(tmp_path):
    path = tmp_path / "weights.npy"
    np.save(path, np.ones(3, dtype=np.float32))
    w = Tensor(np.load(path, mmap_mode="r+"), requires_grad=True)
    (w * w).sum().backward()
    w.data -= 0.5 * w.grad
    np.testing.assert_array_equal(np.load(path), np.ones(3))
    assert type(w.data) is np.ndarray


def test_tensor_from_a_matrix_or_a_view_is_a_plain_copy():
    with pytest.warns(PendingDeprecationWarning):
        m = np.matrix([[1.0, 2.0]], dtype=np.float32)
    t = Tensor(m)
    m[0, 0] = 9.0
    assert type(t.data) is np.ndarray and t.data[0, 0] == 1.0
    base = np.zeros((2, 2), dtype=np.float32)
    v = Tensor(base[0])
    base[0, 0] = 5.0
    assert v.data[0] == 0.0
