"""What an installed package promises: type hints visible to users' checkers (py.typed) and a version."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import nn
import tinygrad_edu

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("package", [tinygrad_edu, nn])
def test_packages_carry_the_py_typed_marker(package) -> None:
    assert (Path(package.__file__).parent / "py.typed").is_file()


def test_version_is_a_version_string() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+([.+-]\w+)*", tinygrad_edu.__version__)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is in the standard library from Python 3.11")
def test_the_build_ships_py_typed_and_reads_the_version_from_the_package() -> None:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" in config["project"]["dynamic"]
    assert config["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "tinygrad_edu.__version__"}
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["*"]
