"""Write a file so that it is either complete or not there at all.

Every file tinygrad-edu writes (downloaded data, saved models, a run's
history and plots) goes through `write_atomically`: the content goes to a
temporary file in the same directory, is flushed to disk, and is then renamed
over the target. A full disk, a crash or Ctrl-C in the middle leaves the
previous version (or nothing), never a cut-off file.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["TEMPORARY_SUFFIX", "write_atomically", "write_bytes_atomically"]

TEMPORARY_SUFFIX = ".part"
"""Temporary files are named ``.<target name>.<random>.part`` next to the target."""


def write_atomically(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> None:
    """Call ``write(file)`` on a temporary binary file, then rename it to ``path``.

    The file gets the permissions of a normal new file (0666 minus the umask),
    not the 0600 of a temporary file. Errors name ``path``, not the temporary file.

    Raises
    ------
    OSError
        (of the original subclass) naming ``path`` and the cause, e.g. a full disk or a missing directory.
    """
    target = Path(path)
    try:
        if target.is_dir():
            raise IsADirectoryError(f"{target} is a directory; expected a file path to write")
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=TEMPORARY_SUFFIX)
    except OSError as error:
        raise _naming(error, target) from error
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _naming(error, target) from error
        raise


def write_bytes_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """`write_atomically` for content already in memory."""
    write_atomically(path, lambda file: file.write(data))


def _naming(error: OSError, target: Path) -> OSError:
    """The same kind of error, saying which file could not be written and why."""
    if str(target) in str(error):
        return error
    hint = " (the disk is full: free some space or write elsewhere)" if error.errno == errno.ENOSPC else ""
    message = f"could not write {target}: {error.strerror or error}{hint}"
    try:
        return type(error)(error.errno, message) if error.errno is not None else type(error)(message)
    except TypeError:  # a subclass with its own constructor
        return OSError(error.errno, message)


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read the umask is to set it; restored at once
    os.umask(mask)
    return mask
