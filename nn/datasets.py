"""Datasets: the IDX file format and MNIST.

Only NumPy and the standard library are used, so the whole path from bytes on
disk to arrays in memory can be read in this one file.

MNIST images are returned as uint8 arrays of shape ``(N, 28, 28)``, not
flattened to ``(N, 784)``: spatial operations such as cropping stay natural,
and flattening later is a cheap ``x.reshape(len(x), -1)``.
"""

from __future__ import annotations

import hashlib
import http.client
import math
import os
import sys
import threading
import time
import urllib.request
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .atomic_files import TEMPORARY_SUFFIX, write_bytes_atomically

__all__ = [
    "DATA_DIR_ENV_VAR",
    "DOWNLOAD_DEADLINE",
    "DOWNLOAD_TIMEOUT",
    "IDXFormatError",
    "MNISTNotFoundError",
    "MNIST_MIRRORS",
    "MNIST_SHA256",
    "MNIST_SIZES",
    "load_idx",
    "mnist",
    "mnist_directory",
]

# ---------------------------------------------------------------------------
# IDX: the file format of MNIST (http://yann.lecun.com/exdb/mnist/)
#
#   bytes 0-1   always zero
#   byte  2     data type code (see IDX_DTYPES)
#   byte  3     number of dimensions D
#   then D big-endian uint32 sizes, then the data, big-endian, C order.
# ---------------------------------------------------------------------------

IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),  # unsigned byte
    0x09: np.dtype("i1"),  # signed byte
    0x0B: np.dtype(">i2"),  # short
    0x0C: np.dtype(">i4"),  # int
    0x0D: np.dtype(">f4"),  # float
    0x0E: np.dtype(">f8"),  # double
}

GZIP_MAGIC = b"\x1f\x8b"


class IDXFormatError(ValueError):
    """A file is not valid IDX, or does not hold what the caller expected.

    The message names the file, what was expected and what was found.
    """


def load_idx(path: str | os.PathLike[str], max_bytes: int | None = None) -> np.ndarray:
    """Read an IDX file into a NumPy array.

    Gzip compression is detected from the file's first bytes, not its name,
    so ``foo-ubyte`` and ``foo-ubyte.gz`` may each be compressed or not.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
    max_bytes : int, optional
        Refuse a file whose (decompressed) content is larger, before it is
        all in memory: a gzip bomb or a wrong file then costs nothing.

    Returns
    -------
    numpy.ndarray
        A new, writable array in native byte order, with the shape and dtype
        stored in the file header.

    Raises
    ------
    IDXFormatError
        If the gzip stream is truncated or corrupt, the content is larger
        than ``max_bytes``, or the header or the payload length is invalid.
    """
    return _parse_idx(_read_content(Path(path), max_bytes), source=str(path))


def _read_content(path: Path, max_bytes: int | None) -> bytes:
    """The file's bytes, decompressed if gzipped, refusing more than ``max_bytes``."""
    if max_bytes is not None and not _is_gzipped(path) and path.stat().st_size > max_bytes:
        raise IDXFormatError(f"{path}: expected at most {max_bytes:,} bytes, found {path.stat().st_size:,}")
    return _decompress_if_gzipped(path.read_bytes(), source=str(path), max_bytes=max_bytes)


def _is_gzipped(path: Path) -> bool:
    with open(path, "rb") as file:
        return file.read(len(GZIP_MAGIC)) == GZIP_MAGIC


def _decompress_if_gzipped(raw: bytes, source: str, max_bytes: int | None = None) -> bytes:
    """Decompress a gzip stream (possibly of several members) chunk by chunk, stopping past ``max_bytes``."""
    if not raw.startswith(GZIP_MAGIC):
        if max_bytes is not None and len(raw) > max_bytes:
            raise IDXFormatError(f"{source}: expected at most {max_bytes:,} bytes, found {len(raw):,}")
        return raw
    parts, size, rest = [], 0, raw
    try:
        while rest:
            stream = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # 16+: expect a gzip header
            while rest and not stream.eof:
                room = 0 if max_bytes is None else max_bytes - size + 1  # 0: no limit
                part = stream.decompress(rest, room)
                rest = stream.unconsumed_tail
                parts.append(part)
                size += len(part)
                if max_bytes is not None and size > max_bytes:
                    raise IDXFormatError(
                        f"{source}: expected at most {max_bytes:,} bytes once decompressed, found more "
                        f"(a wrong file, or a gzip bomb); decompression stopped there"
                    )
            if not stream.eof:
                raise EOFError("the stream ends before its end marker")
            rest = stream.unused_data
    except (EOFError, zlib.error) as error:
        raise IDXFormatError(
            f"{source}: expected a complete gzip stream (the file starts with the gzip magic bytes), "
            f"found a truncated or corrupt one ({error})"
        ) from error
    return b"".join(parts)


def _parse_idx(data: bytes, source: str) -> np.ndarray:
    if len(data) < 4:
        raise IDXFormatError(f"{source}: expected a 4-byte IDX magic number, found only {len(data)} bytes")
    if data[0:2] != b"\x00\x00":
        raise IDXFormatError(
            f"{source}: expected the IDX magic number to start with two zero bytes, "
            f"found 0x{data[0]:02x} 0x{data[1]:02x} (not an IDX file?)"
        )
    type_code, ndim = data[2], data[3]
    if type_code not in IDX_DTYPES:
        known = ", ".join(f"0x{code:02x} ({dtype.name})" for code, dtype in IDX_DTYPES.items())
        raise IDXFormatError(f"{source}: expected a data type code among {known}, found 0x{type_code:02x}")
    if ndim == 0:
        raise IDXFormatError(f"{source}: expected at least 1 dimension, found 0")

    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise IDXFormatError(
            f"{source}: truncated: expected a {header_size}-byte header for {ndim} dimensions, "
            f"found {len(data)} bytes"
        )
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = IDX_DTYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize
    found = len(data) - header_size
    if found < expected:
        raise IDXFormatError(
            f"{source}: truncated: expected {expected} bytes of data after the header "
            f"(shape {shape}, {dtype.name}), found {found}"
        )
    if found > expected:
        raise IDXFormatError(
            f"{source}: expected {expected} bytes of data after the header "
            f"(shape {shape}, {dtype.name}), found {found} ({found - expected} bytes too many)"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # astype copies: writable and native-endian


# ---------------------------------------------------------------------------
# MNIST
# ---------------------------------------------------------------------------

DATA_DIR_ENV_VAR = "TINYGRAD_EDU_DATA"

# Tried in order. Each must serve "<mirror>/<name>.gz" for the names below.
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

# SHA-256 of the *decompressed* files. Hashing the content rather than the .gz
# keeps a mirror that re-compresses the same bytes valid.
MNIST_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
# Decompressed size of each file, in bytes: a download or a local file is never read beyond
# its size plus this margin, so an endless body or a gzip bomb stops early as a wrong file.
MNIST_SIZES: dict[str, int] = {
    "train-images-idx3-ubyte": 16 + 60000 * 28 * 28,
    "train-labels-idx1-ubyte": 8 + 60000,
    "t10k-images-idx3-ubyte": 16 + 10000 * 28 * 28,
    "t10k-labels-idx1-ubyte": 8 + 10000,
}
SIZE_MARGIN = 1 << 16

# Seconds to wait for a connection (and for each read): keeps the offline case fast.
DOWNLOAD_TIMEOUT = 5.0
# Seconds one file may take in all, however slowly a mirror trickles (the largest is 9.9 MB gzipped).
DOWNLOAD_DEADLINE = 120.0
DOWNLOAD_CHUNK = 1 << 16


class MNISTNotFoundError(FileNotFoundError):
    """Some MNIST files are missing and could not be downloaded.

    The message lists the missing files, the directory searched, how to
    provide the files offline and, if a download was tried, why it failed.
    """


def mnist_directory(root: str | os.PathLike[str] | None = None) -> Path:
    """Return the directory in which `mnist` looks for (and downloads) files.

    Parameters
    ----------
    root : str or os.PathLike, optional
        If given, this directory is used as is (after expanding ``~``).

    Returns
    -------
    pathlib.Path
        ``root`` if given. Otherwise, if the environment variable
        ``TINYGRAD_EDU_DATA`` is set to a directory ``D``: ``D`` itself when it
        directly holds at least one MNIST file (with or without ``.gz``), else
        ``D/mnist``. Otherwise the per-user cache
        ``$XDG_CACHE_HOME/tinygrad-edu/mnist`` (``~/.cache/tinygrad-edu/mnist``
        when ``XDG_CACHE_HOME`` is unset).

    Raises
    ------
    NotADirectoryError
        If ``root`` or ``TINYGRAD_EDU_DATA`` names an existing file that is not a directory.
    """
    if root is not None:
        directory = Path(root).expanduser()
        _require_directory(directory, "root (--data-dir on the command line)")
        return directory
    data_dir = os.environ.get(DATA_DIR_ENV_VAR)
    if data_dir:
        directory = Path(data_dir).expanduser()
        _require_directory(directory, f"the environment variable {DATA_DIR_ENV_VAR}")
        return directory if any(_find_file(directory, name) for name in MNIST_SHA256) else directory / "mnist"
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home).expanduser() / "tinygrad-edu" / "mnist"


def _require_directory(directory: Path, origin: str) -> None:
    if directory.exists() and not directory.is_dir():
        raise NotADirectoryError(
            f"{origin} names {directory}, which is a file, not a directory: name the directory that holds "
            f"(or should receive) the four MNIST files"
        )


def mnist(
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
    mirrors: Sequence[str] | None = None,
    verify: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load MNIST, downloading the missing files if allowed.

    Every file, local or downloaded, compressed or not, is checked for
    structure (valid IDX, uint8 images of shape ``(N, 28, 28)`` with N > 0,
    one label in 0..9 per image). With ``verify`` (the default) its
    decompressed content must also match `MNIST_SHA256`, so a truncated,
    corrupt or altered file is an error, not silently different data. Pass
    ``verify=False`` for other data in the same format (subsets,
    Fashion-MNIST). Downloads are always verified before they are written.

    Parameters
    ----------
    root : str or os.PathLike, optional
        Directory holding the files; see `mnist_directory` for the default.
        Each of the four files may be named with or without ``.gz``.
    download : bool, default True
        Download missing files from `mirrors`. With ``False``, missing files
        raise `MNISTNotFoundError` at once.
    mirrors : sequence of str, optional
        Base URLs tried in order (``http(s)://`` or ``file://``); defaults to
        `MNIST_MIRRORS`. Each download has a deadline of `DOWNLOAD_DEADLINE`
        seconds and stops reading at the file's known size.
    verify : bool, default True
        Check local files against `MNIST_SHA256`.

    Returns
    -------
    x_train : numpy.ndarray
        uint8, shape (60000, 28, 28), pixels 0 (background) to 255.
    y_train : numpy.ndarray
        int64, shape (60000,), digits 0 to 9.
    x_test : numpy.ndarray
        uint8, shape (10000, 28, 28).
    y_test : numpy.ndarray
        int64, shape (10000,).

    Raises
    ------
    MNISTNotFoundError
        If files are missing and cannot be downloaded (a FileNotFoundError).
    IDXFormatError
        If a local file is corrupt, altered (with ``verify``) or does not hold MNIST-shaped data.
    OSError
        If the directory cannot be used or a download cannot be written (e.g. a full disk), naming the path.
    TypeError, ValueError
        If ``mirrors`` is not a non-empty sequence of URL strings.
    """
    mirror_list = _check_mirrors(MNIST_MIRRORS if mirrors is None else mirrors)
    directory = mnist_directory(root)
    _remove_stale_partial_downloads(directory)
    missing = [name for name in MNIST_SHA256 if _find_file(directory, name) is None]
    if missing and not download:
        raise MNISTNotFoundError(
            _missing_files_message(directory, missing, "Downloading is disabled (download=False).")
        )
    for position, name in enumerate(missing):
        failures = _download(name, directory, mirror_list)
        if failures:  # stop at the first failure: offline, every later file would fail too
            reason = "Download failed:\n" + "\n".join(f"  {failure}" for failure in failures)
            raise MNISTNotFoundError(_missing_files_message(directory, missing[position:], reason))

    x_train, y_train = _load_split(directory, "train", verify)
    x_test, y_test = _load_split(directory, "t10k", verify)
    return x_train, y_train, x_test, y_test


def _check_mirrors(mirrors: object) -> list[str]:
    if isinstance(mirrors, (str, bytes)) or not isinstance(mirrors, Sequence):
        raise TypeError(
            f"mirrors must be a list of base URLs, got {type(mirrors).__name__} {mirrors!r}; "
            f"for a single mirror pass mirrors=[url]"
        )
    if not mirrors:
        raise ValueError("mirrors is empty: give at least one base URL, or download=False to use local files only")
    for mirror in mirrors:
        if not isinstance(mirror, str) or not mirror.startswith(("http://", "https://", "file://")):
            raise ValueError(f"each mirror must be an http://, https:// or file:// URL string, got {mirror!r}")
    return list(mirrors)


def _find_file(directory: Path, name: str) -> Path | None:
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
        if candidate.exists():
            raise IsADirectoryError(
                f"{candidate} is in the way: expected the MNIST file {candidate.name}, found a directory (or "
                f"another non-file). Remove or rename it, and the file will be downloaded there."
            )
    return None


def _remove_stale_partial_downloads(directory: Path) -> None:
    """Delete temporary files left by a download that was killed: older than any download can take."""
    if not directory.is_dir():
        return
    now = time.time()
    for name in MNIST_SHA256:
        for leftover in directory.glob(f".{name}*{TEMPORARY_SUFFIX}"):
            try:
                if now - leftover.stat().st_mtime > 2 * DOWNLOAD_DEADLINE:
                    leftover.unlink()
            except OSError:
                pass  # gone already, or not ours to delete: it does not affect loading


def _missing_files_message(directory: Path, missing: list[str], reason: str) -> str:
    return (
        f"MNIST files missing in {directory}: {', '.join(missing)} (each with or without .gz).\n"
        f"{reason}\n"
        f"To work offline, put the files in {directory}; or name the directory holding them with "
        f"--data-dir on the command line, mnist(root=...) in Python, or the environment variable "
        f"{DATA_DIR_ENV_VAR} (the files directly in it or in an 'mnist' subfolder).\n"
        f"The .gz files can be fetched from any of: {', '.join(MNIST_MIRRORS)}"
    )


def _download(name: str, directory: Path, mirrors: Sequence[str]) -> list[str]:
    """Fetch ``name`` from the first mirror that serves it with the right checksum.

    Returns the list of failures, empty on success.
    """
    failures = []
    for mirror in mirrors:
        url = f"{mirror.rstrip('/')}/{name}.gz"
        print(f"Downloading {url}", file=sys.stderr)
        try:
            payload = _fetch(url, MNIST_SIZES[name] + SIZE_MARGIN)
            _verify_sha256(payload, name, source=url)
        except (OSError, ValueError, http.client.HTTPException) as error:
            failures.append(f"{url}: {error}")
            continue
        filename = f"{name}.gz" if payload.startswith(GZIP_MAGIC) else name
        try:
            directory.mkdir(parents=True, exist_ok=True)
            write_bytes_atomically(directory / filename, payload)
        except OSError as error:
            raise OSError(
                f"downloaded {name} but could not save it in {directory}: {error}. Free some space or make the "
                f"directory writable, or choose another data directory (--data-dir, mnist(root=...) or "
                f"{DATA_DIR_ENV_VAR})"
            ) from error
        return []
    return failures


def _fetch(url: str, max_bytes: int) -> bytes:
    """The body at ``url``, within `DOWNLOAD_DEADLINE` seconds and at most ``max_bytes`` long.

    The download runs in a daemon thread that is abandoned at the deadline, so
    nothing a server does, not even sending its headers one byte at a time, can
    make the caller wait longer.
    """
    deadline = time.monotonic() + DOWNLOAD_DEADLINE
    outcome: dict[str, Any] = {}

    def download() -> None:
        try:
            outcome["body"] = _read_body(url, max_bytes, deadline)
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error

    worker = threading.Thread(target=download, name=f"download {url}", daemon=True)
    worker.start()
    worker.join(DOWNLOAD_DEADLINE)
    if worker.is_alive():
        raise TimeoutError(f"timed out: no complete file after {DOWNLOAD_DEADLINE:g} s (the deadline for one file)")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["body"]


def _read_body(url: str, max_bytes: int, deadline: float) -> bytes:
    chunks, size = [], 0
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise ValueError(f"the mirror announces {int(declared):,} bytes, more than the file can be: a wrong file")
        while chunk := response.read1(DOWNLOAD_CHUNK):  # read1: returns what has arrived, never waits for more
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise ValueError(f"the body goes on past {max_bytes:,} bytes, more than the file can be: a wrong file")
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"timed out: only {size:,} bytes after {DOWNLOAD_DEADLINE:g} s (the deadline for one file)"
                )
    return b"".join(chunks)


def _verify_sha256(payload: bytes, name: str, source: str) -> None:
    content = _decompress_if_gzipped(payload, source, max_bytes=MNIST_SIZES[name] + SIZE_MARGIN)
    digest = hashlib.sha256(content).hexdigest()
    if digest != MNIST_SHA256[name]:
        raise ValueError(
            f"SHA-256 mismatch for the decompressed {name}: expected {MNIST_SHA256[name]}, found {digest}"
        )


def _load_split(directory: Path, prefix: str, verify: bool) -> tuple[np.ndarray, np.ndarray]:
    images_path, images = _load_verified(directory, f"{prefix}-images-idx3-ubyte", verify)
    labels_path, labels = _load_verified(directory, f"{prefix}-labels-idx1-ubyte", verify)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise IDXFormatError(
            f"{images_path}: expected uint8 images of shape (N, 28, 28), "
            f"found {images.dtype} of shape {images.shape}"
        )
    if len(images) == 0:
        raise IDXFormatError(f"{images_path}: expected at least one image, found a valid IDX file holding none")
    if labels.dtype != np.uint8 or labels.shape != (len(images),):
        raise IDXFormatError(
            f"{labels_path}: expected uint8 labels of shape ({len(images)},) to match {images_path.name}, "
            f"found {labels.dtype} of shape {labels.shape}"
        )
    if np.any(labels > 9):
        raise IDXFormatError(f"{labels_path}: expected digits 0 to 9, found the label {labels.max()}")
    return images, labels.astype(np.int64)


def _load_verified(directory: Path, name: str, verify: bool) -> tuple[Path, np.ndarray]:
    """Read one file; with ``verify``, its content must be exactly the MNIST file's."""
    path = _find_file(directory, name)
    if path is None:
        raise MNISTNotFoundError(_missing_files_message(directory, [name], "It disappeared while loading."))
    delete_hint = (
        f"Delete {path} (it is downloaded again when missing) or replace it with a good copy"
        + ("; pass verify=False (--no-verify) only for other data in the MNIST format." if verify else ".")
    )
    try:
        content = _read_content(path, MNIST_SIZES[name] + SIZE_MARGIN if verify else None)
        if verify and (digest := hashlib.sha256(content).hexdigest()) != MNIST_SHA256[name]:
            raise IDXFormatError(
                f"{path}: expected the MNIST file {name} ({MNIST_SIZES[name]:,} bytes, SHA-256 "
                f"{MNIST_SHA256[name][:16]}...), found {len(content):,} bytes with SHA-256 {digest[:16]}...: "
                f"a truncated, corrupt or different file"
            )
        return path, _parse_idx(content, source=str(path))
    except IDXFormatError as error:
        raise IDXFormatError(f"{error}\n{delete_hint}") from None
