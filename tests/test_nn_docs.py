"""The documentation runs: the tutorial's code blocks, the reference's examples and nn's docstrings."""

import doctest
import re
import textwrap
from pathlib import Path

import nn
import nn.layers
import nn.module

DOCS = Path(__file__).resolve().parent.parent / "docs"


def python_blocks(path):
    """The code of every ```python block, dedented (blocks inside list items are indented)."""
    return [
        textwrap.dedent(block) for block in re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)
    ]


def test_first_network_tutorial_runs_and_reaches_its_target(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the tutorial saves x2_model.npz
    namespace = {}
    for block in python_blocks(DOCS / "first_network.md"):
        exec(block, namespace)  # noqa: S102  (our own documentation)
    out = capsys.readouterr().out
    assert "epoch 3000  MSE" in out and "193 parameters" in out
    assert namespace["loss"].item() < 1e-5
    assert (tmp_path / "x2_model.npz").exists()


def test_nn_reference_examples():
    result = doctest.testfile(str(DOCS / "nn.md"), module_relative=False, globs={"nn": nn})
    assert result.attempted > 0 and result.failed == 0


def test_docstring_examples():
    for module in (nn.module, nn.layers):
        result = doctest.testmod(module)
        assert result.failed == 0, module.__name__
