"""Tests for the training command (``python -m nn.train mnist``) and its health checks.

Most tests train on a small synthetic MNIST written here as IDX files (each
digit class is a bright bar at its own height, so it is learnable in one
epoch); one test trains briefly on the real MNIST when it is available.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import os
import stat
import struct
from pathlib import Path

import numpy as np
import pytest

from nn import datasets
from nn.datasets import MNISTNotFoundError, mnist, mnist_directory
from nn.train import main
from nn.training.config import TrainConfig
from nn.training.health import (
    DivergenceGuard,
    InputStats,
    TrainingDiverged,
    initial_loss_warning,
    input_warnings,
    stalled_loss_warning,
)
from nn.training.loop import predict_logits
from nn.training.mnist import build_model, run
from nn.training.report import confusion_matrix, format_confusion_matrix

REPO = Path(__file__).resolve().parent.parent
SMALL_RUN = ["--hidden", "16", "--epochs", "1", "--val-size", "200", "--no-progress", "--no-plots", "--no-verify"]


def write_idx(path: Path, array: np.ndarray) -> None:
    """uint8 IDX: two zero bytes, type code 0x08, the number of dimensions, big-endian sizes, the bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def synthetic_digits(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Noisy 28x28 images where digit d is a bright horizontal bar at rows 4 + 2d and 5 + 2d."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, count)
    images = rng.integers(0, 60, (count, 28, 28))
    for row in range(2):
        images[np.arange(count), 4 + 2 * labels + row, 4:24] = 255
    return images.astype(np.uint8), labels.astype(np.uint8)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("synthetic_mnist")
    for prefix, count, seed in (("train", 1200, 0), ("t10k", 300, 1)):
        images, labels = synthetic_digits(count, seed)
        write_idx(directory / f"{prefix}-images-idx3-ubyte", images)
        write_idx(directory / f"{prefix}-labels-idx1-ubyte", labels)
    return directory


def run_command(data_dir: Path, out_dir: Path, *options: str) -> int:
    return main(["mnist", "--data-dir", str(data_dir), "--out-dir", str(out_dir), *SMALL_RUN, *options])


# ---------------------------------------------------------------- the command end to end


def test_command_trains_and_writes_history_model_and_matrix(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_command(data_dir, tmp_path, "--limit", "600") == 0
    output = capsys.readouterr().out
    assert "data: 600 training, 200 validation, 300 test images" in output
    epoch_line = next(line for line in output.splitlines() if line.startswith("epoch  1/1"))
    assert "val loss" in epoch_line and "val acc" in epoch_line and "test" not in epoch_line
    assert "true\\pred" in output and "WARNING" not in output
    assert "measured once on the model of epoch 1" in output

    history = json.loads((tmp_path / "history.json").read_text())
    assert history["status"] == "finished" and history["chosen_epoch"] == 1
    assert history["config"]["limit"] == 600 and history["config"]["hidden"] == [16]
    (epoch,) = history["epochs"]
    assert "test_accuracy" not in epoch and history["test_accuracy"] >= 0.5  # chance is 0.1: it learned something
    assert len(history["step_losses"]) == history["steps_per_epoch"][0] == math.ceil(600 / 32)
    with open(tmp_path / "history.csv", newline="") as file:
        (row,) = list(csv.DictReader(file))
    assert float(row["val_accuracy"]) == pytest.approx(epoch["val_accuracy"])

    # The .npz holds plain arrays (no pickle), and a fresh model loaded from it makes exactly the
    # predictions the run measured: the recorded confusion matrix is reproduced cell for cell.
    with np.load(tmp_path / "model.npz", allow_pickle=False) as archive:
        state = {name: archive[name] for name in archive.files}
    model = build_model(TrainConfig(hidden=[16]), num_inputs=24 * 24)
    assert sorted(state) == sorted(name for name, _ in model.named_parameters())
    model.load_state_dict(state)
    x_test, y_test = synthetic_digits(300, seed=1)
    inputs = (x_test[:, 2:26, 2:26].reshape(300, -1) / np.float32(255)).astype(np.float32)
    predictions = predict_logits(model, inputs).argmax(axis=1)
    assert confusion_matrix(y_test.astype(np.int64), predictions, 10).tolist() == history["confusion_matrix"]


def test_plots_are_drawn_when_matplotlib_is_installed(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options = [option for option in SMALL_RUN if option != "--no-plots"]
    assert main(["mnist", "--data-dir", str(data_dir), "--out-dir", str(tmp_path), "--limit", "200", *options]) == 0
    if importlib.util.find_spec("matplotlib") is None:
        assert "no plots: matplotlib is not installed" in capsys.readouterr().out
    else:
        for picture in ("training.png", "misclassified.png"):
            assert (tmp_path / picture).read_bytes().startswith(b"\x89PNG")


def test_saved_model_round_trips_to_identical_outputs(tmp_path: Path) -> None:
    config = TrainConfig(hidden=[8, 8], activation="tanh", dropout=0.1)
    model, fresh = build_model(config, 20), build_model(config, 20)
    model.save(tmp_path / "model.npz")
    fresh.load(tmp_path / "model.npz")
    x = np.random.default_rng(0).random((5, 20), dtype=np.float32)
    np.testing.assert_array_equal(predict_logits(fresh, x), predict_logits(model, x))


def test_huge_learning_rate_stops_the_run_with_advice(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_command(data_dir, tmp_path, "--limit", "1000", "--lr", "50") == 1
    output = capsys.readouterr().out
    assert "lower the learning rate (now 50; try 5)" in output
    assert "nan" not in output.split("STOPPED")[0]  # stopped before printing a NaN epoch
    assert not (tmp_path / "model.npz").exists()
    assert json.loads((tmp_path / "history.json").read_text())["status"].startswith("diverged")


def test_raw_pixels_trigger_the_input_and_initial_loss_warnings(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_command(data_dir, tmp_path, "--limit", "100", "--raw-pixels")
    output = capsys.readouterr().out
    assert "inputs: min 0.000  max 255.000" in output
    assert "UNSCALED 0-255 PIXELS" in output
    assert "WARNING: the initial loss" in output and "more than 1.5x the expected 2.303" in output


def test_tiny_learning_rate_triggers_the_stalled_warning(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_command(data_dir, tmp_path, "--limit", "300", "--lr", "1e-7") == 0
    assert "WARNING: at the end of the first epoch the loss" in capsys.readouterr().out


def test_help_documents_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["mnist", "--help"])
    assert exit_info.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())  # undo argparse's line wrapping
    documented = {
        "--hidden": "hidden layer sizes",
        "--activation": "activation after every hidden layer",
        "--optimizer": "update rule",
        "--lr": "initial learning rate (default: 0.002 for adam, 0.1 for sgd)",
        "--momentum": "SGD momentum",
        "--weight-decay": "L2 penalty",
        "--schedule": "cosine decays it",
        "--batch-size": "final batch size",
        "--batch-start": "doubled each epoch",
        "--epochs": "passes over the training set",
        "--dropout": "probability of dropping",
        "--seed": "seeds initialisation",
        "--data-dir": "TINYGRAD_EDU_DATA",
        "--val-size": "held out for validation",
        "--crop": "border pixels",
        "--out-dir": "history.json, history.csv, model.npz",
        "--limit": "only the first N training images",
        "--raw-pixels": "unscaled 0-255 pixels",
        "--no-progress": "no progress bar",
        "--no-plots": "skip the plots",
        "--threads": "BLAS threads",
        "--no-verify": "SHA-256",
    }
    for option, phrase in documented.items():
        assert option in help_text and phrase in help_text, option


def test_bad_settings_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["mnist", "--momentum", "0.9"])  # momentum with the default optimizer, Adam
    assert exit_info.value.code == 2
    assert "momentum is an SGD setting" in capsys.readouterr().err


def test_missing_data_is_a_short_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(datasets, "MNIST_MIRRORS", ((tmp_path / "no-such-mirror").as_uri() + "/",))  # offline
    assert main(["mnist", "--data-dir", str(tmp_path), "--out-dir", str(tmp_path / "out")]) == 2
    assert "error: MNIST files missing in" in capsys.readouterr().err


# ---------------------------------------------------------------- health checks


@pytest.mark.parametrize(
    ("pixels", "fragment"),
    [(np.array([0.0, 128.0, 255.0]), "UNSCALED 0-255 PIXELS"), (np.array([-40.0, 3.0, 55.0]), "LARGE")],
)
def test_input_warnings_fire_for_large_inputs(pixels: np.ndarray, fragment: str) -> None:
    (warning,) = input_warnings(InputStats.of(pixels))
    assert fragment in warning


@pytest.mark.parametrize("pixels", [np.array([0.0, 0.5, 1.0]), np.array([-2.5, 0.0, 3.0])])
def test_input_warnings_stay_quiet_for_scaled_inputs(pixels: np.ndarray) -> None:
    assert input_warnings(InputStats.of(pixels)) == []


@pytest.mark.parametrize(("loss", "fires"), [(2.30, False), (1.2, False), (3.4, False), (3.5, True), (1.1, True)])
def test_initial_loss_warning_band(loss: float, fires: bool) -> None:
    warning = initial_loss_warning(loss, num_classes=10)
    assert (warning is not None) == fires
    if fires:
        assert "expected 2.303" in warning  # type: ignore[operator]


def test_initial_loss_warning_for_non_finite_loss() -> None:
    assert "overflows" in initial_loss_warning(float("inf"), 10)  # type: ignore[operator]


def test_stalled_loss_warning() -> None:
    assert stalled_loss_warning(0.5, 10) is None
    assert "barely learning" in stalled_loss_warning(2.2, 10)  # type: ignore[operator]


def test_guard_stops_at_once_on_nan() -> None:
    guard = DivergenceGuard()
    guard.update(2.3, lr=0.1)
    with pytest.raises(TrainingDiverged, match=r"became nan.*lower the learning rate \(now 0.1; try 0.01\)"):
        guard.update(float("nan"), lr=0.1)


def test_guard_stops_a_climbing_loss_after_its_patience() -> None:
    guard = DivergenceGuard(patience=20)
    for _ in range(50):
        guard.update(2.3, lr=1.0)
    steps = 0
    with pytest.raises(TrainingDiverged, match="lower the learning rate"):
        for steps in range(1, 100):  # noqa: B007
            guard.update(50.0, lr=1.0)
    assert 20 <= steps < 30  # the smoothed loss passes 2 x 2.3 within a few steps, then 20 more


def noisy_batch_losses(seed: int, plateau: float, steps: int = 3000, batch_size: int = 32) -> list[float]:
    """Batch losses of a healthy run: a falling trend, where each image is either right (loss ~0) or
    wrong (loss ~5 on average). Late in training a batch holds 0, 1 or 2 wrong images, so its loss is
    spiky: 0, then 0.3, then 0.05."""
    rng = np.random.default_rng(seed)
    losses = []
    for step in range(steps):
        trend = 2.2 * math.exp(-step / 100) + plateau
        wrong = rng.random(batch_size) < trend / 5
        losses.append(float(np.where(wrong, rng.exponential(5.0, batch_size), 0.0).mean()))
    return losses


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("plateau", [0.05, 0.3])
def test_guard_ignores_noise_of_a_healthy_run(seed: int, plateau: float) -> None:
    guard = DivergenceGuard()
    for loss in noisy_batch_losses(seed, plateau):
        guard.update(loss, lr=1e-3)


def test_guard_with_a_low_floor_would_stop_a_healthy_run() -> None:
    """Why the floor is 0.5: comparing tiny, noisy losses with their luckiest stretch raises false alarms."""
    guard = DivergenceGuard(floor=0.1)
    with pytest.raises(TrainingDiverged):
        for loss in noisy_batch_losses(seed=0, plateau=0.3):
            guard.update(loss, lr=1e-3)


# ---------------------------------------------------------------- confusion matrix


def test_confusion_matrix_counts_and_format() -> None:
    labels = np.array([0, 0, 1, 2, 2, 2])
    predictions = np.array([0, 1, 1, 2, 2, 0])
    matrix = confusion_matrix(labels, predictions, 3)
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    lines = format_confusion_matrix(matrix).splitlines()
    assert lines[0].split() == ["true\\pred", "0", "1", "2", "accuracy"]
    assert lines[3].split() == ["2", "1", "0", "2", "66.67%"]


# ---------------------------------------------------------------- real MNIST


def real_mnist_dir() -> str:
    """The directory holding the real MNIST files, or skip the test saying why."""
    try:
        mnist(download=False)
    except MNISTNotFoundError as error:
        reason = str(error).splitlines()[0]
        pytest.skip(f"real MNIST not found (set TINYGRAD_EDU_DATA to the directory holding it): {reason}")
    return str(mnist_directory())


def test_one_short_epoch_on_real_mnist_reaches_90_percent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = real_mnist_dir()
    options = ["--limit", "15000", "--hidden", "64", "--batch-start", "64", "--batch-size", "64"]
    assert main(["mnist", "--data-dir", directory, "--out-dir", str(tmp_path), "--epochs", "1",
                 "--no-progress", "--no-plots", *options]) == 0  # fmt: skip
    assert "WARNING" not in capsys.readouterr().out
    assert json.loads((tmp_path / "history.json").read_text())["test_accuracy"] >= 0.90


# ---------------------------------------------------------------- bad input: exit 2, before any data is loaded


@pytest.fixture
def data_must_not_load(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("the data was loaded although the input was already known to be bad")

    monkeypatch.setattr("nn.training.mnist.mnist", fail)


@pytest.mark.parametrize(
    ("option", "value", "expected_range"),
    [
        ("--dropout", "1.5", "[0, 1)"),
        ("--hidden", "0", "at least 1"),
        ("--crop", "14", "[0, 13]"),
        ("--val-size", "60000", "[0, 60000)"),
        ("--seed", "-1", "[0, 4294967295]"),
        ("--weight-decay", "-1", ">= 0"),
        ("--lr", "nan", "positive finite"),
        ("--lr", "inf", "positive finite"),
        ("--momentum", "1", "[0, 1)"),
        ("--epochs", "0", "at least 1"),
        ("--limit", "0", "at least 1"),
        ("--threads", "0", "at least 1"),
        ("--epochs", "two", "an integer"),
    ],
)
def test_every_bad_option_is_a_usage_error_naming_its_range(
    data_must_not_load: None, capsys: pytest.CaptureFixture[str], option: str, value: str, expected_range: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["mnist", option, value])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert f"argument {option}" in error and expected_range in error and value in error
    assert "Traceback" not in error


def test_out_dir_naming_a_file_is_bad_input(
    data_must_not_load: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "results.txt").write_text("my notes")
    assert main(["mnist", "--out-dir", str(tmp_path / "results.txt")]) == 2
    assert "is a file, not a directory" in capsys.readouterr().err
    assert (tmp_path / "results.txt").read_text() == "my notes"


def test_out_dir_that_cannot_be_created_is_found_before_training(
    data_must_not_load: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("")
    assert main(["mnist", "--out-dir", str(tmp_path / "file" / "run")]) == 2
    assert f"--out-dir {tmp_path / 'file' / 'run'} cannot be written" in capsys.readouterr().err


def copy_of(data_dir: Path, target: Path) -> Path:
    target.mkdir()
    for path in data_dir.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


def test_corrupt_data_file_is_bad_input_not_a_traceback(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = copy_of(data_dir, tmp_path / "data")
    (broken / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01\x00\x00\x01\x2c" + bytes(10))  # 300 promised
    assert run_command(broken, tmp_path / "out") == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and "t10k-labels-idx1-ubyte: truncated" in error
    assert not (tmp_path / "out" / "history.json").exists()


def test_data_file_holding_zero_images_is_bad_input(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = copy_of(data_dir, tmp_path / "data")
    write_idx(empty / "train-images-idx3-ubyte", np.zeros((0, 28, 28), np.uint8))
    write_idx(empty / "train-labels-idx1-ubyte", np.zeros(0, np.uint8))
    assert run_command(empty, tmp_path / "out") == 2
    assert "expected at least one image" in capsys.readouterr().err


def test_val_size_larger_than_a_small_training_set_is_bad_input(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_command(data_dir, tmp_path, "--val-size", "1200") == 2
    assert "--val-size 1200 leaves no training images: the training set holds 1,200" in capsys.readouterr().err


def test_messages_speak_to_an_installed_package(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(datasets, "MNIST_MIRRORS", ((tmp_path / "no-such-mirror").as_uri() + "/",))
    assert main(["mnist", "--data-dir", str(tmp_path / "none"), "--out-dir", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert "--data-dir" in error
    with pytest.raises(SystemExit):
        main(["mnist", "--help"])
    assert "docs/" not in capsys.readouterr().out
    monkeypatch.setattr("nn.training.plots.matplotlib_available", lambda: False)
    options = [option for option in SMALL_RUN if option != "--no-plots"]
    assert main(["mnist", "--data-dir", str(data_dir), "--out-dir", str(tmp_path), "--limit", "100", *options]) == 0
    output = capsys.readouterr().out
    assert "pip install matplotlib" in output and "pip install -e" not in output


# ---------------------------------------------------------------- what a run leaves behind


def test_test_set_is_measured_once_on_the_model_chosen_on_validation(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_command(data_dir, tmp_path, "--limit", "300", "--epochs", "3", "--lr", "0.02") == 0
    output = capsys.readouterr().out
    assert output.count("test accuracy") == 1 and "test acc " not in output
    history = json.loads((tmp_path / "history.json").read_text())
    val = [epoch["val_accuracy"] for epoch in history["epochs"]]
    assert history["chosen_epoch"] == 1 + val.index(max(val))

    model = build_model(TrainConfig(hidden=[16]), num_inputs=24 * 24).load(tmp_path / "model.npz")
    x_test, y_test = synthetic_digits(300, seed=1)
    inputs = (x_test[:, 2:26, 2:26].reshape(300, -1) / np.float32(255)).astype(np.float32)
    accuracy = float(np.mean(predict_logits(model, inputs).argmax(axis=1) == y_test))
    assert accuracy == pytest.approx(history["test_accuracy"])


def test_outputs_have_normal_permissions_and_no_leftovers(data_dir: Path, tmp_path: Path) -> None:
    assert run_command(data_dir, tmp_path, "--limit", "200") == 0
    umask = os.umask(0o022)
    os.umask(umask)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv", "history.json", "model.npz"]
    for path in tmp_path.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path.name


def test_a_diverged_run_does_not_leave_the_previous_runs_model_beside_its_history(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_command(data_dir, tmp_path, "--limit", "200") == 0
    assert (tmp_path / "model.npz").exists()
    assert run_command(data_dir, tmp_path, "--limit", "1000", "--lr", "50") == 1
    assert json.loads((tmp_path / "history.json").read_text())["status"].startswith("diverged")
    assert not (tmp_path / "model.npz").exists()
    assert "replacing the previous run's" in capsys.readouterr().out


def test_a_full_disk_at_the_end_keeps_the_previous_run_and_says_what_was_lost(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_command(data_dir, tmp_path, "--limit", "200") == 0
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    assert run_command(data_dir, tmp_path, "--limit", "200", "--seed", "1") == 1
    output = capsys.readouterr().out
    assert "NOT WRITTEN: history.json: could not write" in output and "disk is full" in output
    assert f"{tmp_path / 'history.json'}" in output and ".part" not in output
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before  # valid, and all one run


def test_a_partly_failed_save_keeps_the_rest(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_room_for_models(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", no_room_for_models)
    assert run_command(data_dir, tmp_path, "--limit", "200") == 1
    assert "NOT WRITTEN: model.npz" in capsys.readouterr().out
    assert json.loads((tmp_path / "history.json").read_text())["status"] == "finished"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv", "history.json"]


def test_ctrl_c_after_an_epoch_saves_the_finished_epochs_and_exits_130(data_dir: Path, tmp_path: Path) -> None:
    assert run_command(data_dir, tmp_path, "--limit", "200") == 0  # an earlier run in the same directory
    lines: list[str] = []

    def log_then_press_ctrl_c(line: str) -> None:
        lines.append(line)
        if line.startswith("epoch  1/3"):
            raise KeyboardInterrupt

    config = TrainConfig(hidden=[16], epochs=3, val_size=200, limit=300, data_dir=str(data_dir),
                         out_dir=str(tmp_path), progress=False, plots=False, verify=False)  # fmt: skip
    assert run(config, log=log_then_press_ctrl_c) == 130
    output = "\n".join(lines)
    assert "INTERRUPTED after 1 epoch" in output and str(tmp_path) in output
    history = json.loads((tmp_path / "history.json").read_text())
    assert history["status"] == "interrupted after 1 epoch" and len(history["epochs"]) == 1
    assert len(history["step_losses"]) == sum(history["steps_per_epoch"]) == math.ceil(300 / 32)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv", "history.json", "model-interrupted.npz"]
    build_model(config, 24 * 24).load(tmp_path / "model-interrupted.npz")


def test_threads_are_reported_overridable_and_restored(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = [info["num_threads"] for info in threadpoolctl.threadpool_info()]
    assert run_command(data_dir, tmp_path, "--limit", "200", "--threads", "1") == 0
    assert "threads: 1 BLAS thread (" in capsys.readouterr().out
    assert run_command(data_dir, tmp_path, "--limit", "200") == 0
    assert "BLAS thread" in capsys.readouterr().out
    assert [info["num_threads"] for info in threadpoolctl.threadpool_info()] == before


def test_ctrl_c_while_loading_the_data_exits_130_and_keeps_the_earlier_run(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_command(data_dir, tmp_path, "--limit", "200") == 0
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}

    def pressed_ctrl_c(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("nn.training.mnist.mnist", pressed_ctrl_c)
    assert run_command(data_dir, tmp_path) == 130
    assert "nothing was written" in capsys.readouterr().err
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before
