"""The examples run at reduced size: the x**2 fit converges, the activation comparison prints its table."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


regression_x2 = load_example("regression_x2")
custom_activations = load_example("custom_activations")


def test_regression_x2_converges_at_reduced_size():
    result = regression_x2.train(epochs=1000, hidden=32, n_points=51, log=lambda line: None)
    assert result.final_mse < 1e-5
    assert len(result.losses) == 1000 and result.losses[0] > 100 * result.final_mse
    x = np.linspace(0, 1, 11)
    np.testing.assert_allclose(result.predict(x), x**2, atol=0.01)


def test_regression_x2_extrapolates_linearly_outside_the_data():
    result = regression_x2.train(epochs=300, hidden=16, n_points=51, log=lambda line: None)
    layer = result.model.layers[0]
    kinks = -layer.bias.data / layer.weight.data[:, 0]
    beyond = max(kinks.max(), 1.0) + 1.0  # past every hidden unit's kink the network is one straight line
    y = result.predict(np.array([beyond, beyond + 1, beyond + 2]))
    assert y[2] - y[1] == pytest.approx(y[1] - y[0], rel=1e-4)


def test_regression_x2_main_prints_progress_extrapolation_and_comparison(capsys, tmp_path):
    regression_x2.main(
        ["--epochs", "200", "--relu-output", "--seeds", "2", "--plot", str(tmp_path / "fit.png")]
    )
    out = capsys.readouterr().out
    assert "epoch   200   MSE" in out and "Final MSE" in out
    assert "Outside the training interval" in out and "piecewise linear" in out
    assert "ReLU on the output layer" in out and "seed   linear output   ReLU output" in out
    if importlib.util.find_spec("matplotlib") is not None:
        assert (tmp_path / "fit.png").stat().st_size > 0
    else:
        assert "matplotlib is not installed" in out


@pytest.mark.parametrize("module", [regression_x2, custom_activations])
def test_examples_have_help(module, capsys):
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--help"])
    assert exit_info.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_custom_activations_compare_and_table(capsys):
    rows = custom_activations.compare(epochs=300, names=["relu", "square", "relu|sin"])
    assert [row.name for row in rows] == ["relu", "square", "relu|sin"]
    assert all(np.isfinite(row.mse) for row in rows)
    square = rows[1]
    assert square.mse < 1e-6  # a network of x**2 units is a quadratic: it fits x**2 exactly...
    assert square.outside[2] == pytest.approx(25.0, rel=1e-2)  # ...and extrapolates it
    custom_activations.print_table(rows, "x2")
    out = capsys.readouterr().out
    assert "train MSE" in out and "relu / sin by unit" in out


def test_every_custom_activation_is_a_one_line_forward_expression():
    from tinygrad_edu import Tensor

    x = Tensor(np.linspace(-2, 2, 8).reshape(2, 4), requires_grad=True)
    for name, (_, fn) in custom_activations.ACTIVATIONS.items():
        out = fn(x)
        assert out.shape == x.shape, name
        out.sum().backward()
        assert x.grad is not None and np.isfinite(x.grad).all(), name
        x.grad = None


def test_every_example_script_answers_help_without_running():
    """The README promises ``--help`` on every example: run each script as a user would, all at once."""
    scripts = sorted(EXAMPLES.glob("*.py"))
    assert len(scripts) >= 5
    env = {**os.environ, "PYTHONPATH": str(EXAMPLES.parent)}
    processes = {
        script.name: subprocess.Popen(
            [sys.executable, str(script), "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for script in scripts
    }
    for name, process in processes.items():
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, f"{name} --help failed:\n{err}"
        assert out.startswith("usage:"), name
        if name == "mnist_mlp.py":  # a thin wrapper of python -m nn.train mnist
            assert "--batch-start" in out and "--threads" in out
