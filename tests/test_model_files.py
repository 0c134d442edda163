"""Saving and loading models: every broken file is named and explained, and a failed save leaves nothing behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

import nn


def saved_model(tmp_path: Path) -> tuple[nn.Module, Path]:
    model = nn.MLP([4, 3, 2])
    path = tmp_path / "model.npz"
    model.save(path)
    return model, path


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_nn_load_returns_the_saved_arrays(tmp_path: Path) -> None:
    model, path = saved_model(tmp_path)
    state = nn.load(path)
    assert sorted(state) == sorted(model.state_dict())
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(state[name], value)


def test_saved_model_has_normal_file_permissions(tmp_path: Path) -> None:
    _, path = saved_model(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~current_umask()
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


def broken_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Broken model files as a user might meet them: name -> (path, a phrase the error must contain)."""
    _, good = saved_model(tmp_path)
    data = good.read_bytes()
    files = {}

    np.save(tmp_path / "array.npy", np.zeros(3))
    files["npy"] = (tmp_path / "array.npy", ".npy array")
    (tmp_path / "notes.npz").write_text("these are my notes\n")
    files["text"] = (tmp_path / "notes.npz", "does not start like a zip archive")
    (tmp_path / "empty.npz").write_bytes(b"")
    files["empty"] = (tmp_path / "empty.npz", "empty")
    (tmp_path / "truncated.npz").write_bytes(data[: len(data) // 2])
    files["truncated"] = (tmp_path / "truncated.npz", "truncated or corrupt")
    flipped = bytearray(data)
    flipped[len(data) // 4] ^= 0xFF  # inside the first array's bytes: its CRC no longer matches
    (tmp_path / "flipped.npz").write_bytes(bytes(flipped))
    files["flipped"] = (tmp_path / "flipped.npz", "corrupt")
    np.savez(tmp_path / "objects.npz", weights=np.array([{"a": 1}], dtype=object))
    files["objects"] = (tmp_path / "objects.npz", "Python objects")
    return files


@pytest.mark.parametrize("kind", ["npy", "text", "empty", "truncated", "flipped", "objects"])
def test_broken_files_name_the_file_and_what_was_expected(tmp_path: Path, kind: str) -> None:
    path, phrase = broken_files(tmp_path)[kind]
    for load in (nn.load, nn.MLP([4, 3, 2]).load):
        with pytest.raises(ValueError) as error:
            load(path)
        message = str(error.value)
        assert str(path) in message and phrase in message
        assert ".npz" in message and "allow_pickle=True" not in message


def test_load_of_a_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        nn.load(tmp_path / "missing.npz")


def test_failed_save_names_the_requested_path_not_a_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "no-such-directory" / "model.npz"
    with pytest.raises(FileNotFoundError) as error:
        nn.MLP([2, 2]).save(target)
    assert str(target) in str(error.value) and ".part" not in str(error.value)


def test_save_onto_a_directory_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "model.npz").mkdir()
    with pytest.raises(IsADirectoryError, match="model.npz"):
        nn.MLP([2, 2]).save(tmp_path / "model.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


def test_save_on_a_full_disk_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, path = saved_model(tmp_path)
    before = path.read_bytes()

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", full_disk)
    with pytest.raises(OSError) as error:
        nn.MLP([4, 3, 2]).save(path)
    assert str(path) in str(error.value) and "disk is full" in str(error.value)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["model.npz"]
