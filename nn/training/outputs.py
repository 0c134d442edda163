"""The output directory of a run: checked before any work, holding one run's files at a time.

A run's files (history, model, plots) belong together. The directory is
checked for writing before the data is loaded. The new run's files are first
written (each atomically) into a hidden staging folder inside it; `publish`
then removes the previous run's files and moves the new ones in. So the
directory never mixes two runs, and if nothing at all could be written (a
full disk) the previous run is left as it was. What could not be written is
reported; everything else is kept.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["RUN_FILES", "STAGING_DIR", "OutputDirError", "RunDirectory"]

RUN_FILES = ("history.json", "history.csv", "model.npz", "model-interrupted.npz", "training.png", "misclassified.png")
"""Every file a run may write; a new run replaces those of the previous one."""

STAGING_DIR = ".run-in-progress"


class OutputDirError(ValueError):
    """The output directory cannot be used: it is a file, or cannot be created or written."""


class RunDirectory:
    """Where one run writes its files; records which were written, replaced and lost."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.staging = self.path / STAGING_DIR
        self.written: list[str] = []
        self.replaced: list[str] = []
        self.lost: dict[str, str] = {}
        if self.path.exists() and not self.path.is_dir():
            raise OutputDirError(
                f"--out-dir {self.path} is a file, not a directory: name a directory for the run's files"
            )
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(self.staging, ignore_errors=True)  # left by a run killed while saving
            with tempfile.TemporaryFile(dir=self.path):
                pass
        except OSError as error:
            raise OutputDirError(
                f"--out-dir {self.path} cannot be written ({error.strerror or error}); "
                f"choose a directory you can write to"
            ) from None

    def save(self, name: str, write: Callable[[Path], object]) -> None:
        """Call ``write(path)`` to stage the file ``name`` (``write`` must write atomically); failures are recorded."""
        assert name in RUN_FILES, f"{name} must be listed in RUN_FILES, so that the next run replaces it"
        try:
            self.staging.mkdir(exist_ok=True)
            write(self.staging / name)
        except OSError as error:
            reason = error.strerror or str(error)  # strerror: without the "[Errno 28]" prefix
            self.lost[name] = reason.replace(str(self.staging / name), str(self.path / name))

    def publish(self) -> None:
        """Replace the previous run's files by the staged ones; keep the previous run if nothing was staged."""
        staged = [name for name in RUN_FILES if (self.staging / name).is_file()]
        if staged:
            for name in RUN_FILES:
                if (self.path / name).is_file() and name not in staged:
                    try:
                        (self.path / name).unlink()
                    except OSError as error:
                        self.lost[name] = f"the previous run's {name} could not be removed ({error})"
                        continue
                    self.replaced.append(name)
            for name in staged:
                if (self.path / name).is_file():
                    self.replaced.append(name)
                os.replace(self.staging / name, self.path / name)
                self.written.append(name)
        shutil.rmtree(self.staging, ignore_errors=True)

    def summary(self) -> list[str]:
        """Lines for the log: what was written where, what it replaced, and what was lost."""
        lines = []
        if self.written:
            lines.append(f"wrote {', '.join(self.written)} to {self.path}/")
        if self.replaced:
            lines.append(f"  (replacing the previous run's {', '.join(self.replaced)}: one run per directory)")
        if self.lost and not self.written:
            lines.append(f"nothing was written to {self.path}/; files of an earlier run there are unchanged")
        lines += [f"NOT WRITTEN: {name}: {reason}" for name, reason in self.lost.items()]
        return lines
