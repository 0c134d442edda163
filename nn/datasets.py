"""Datasets: the IDX file format and MNIST.

Only NumPy and the standard library are used, so the whole path from bytes on
disk to arrays in memory can be read in this one file.

MNIST images are returned as uint8 arrays of shape ``(N, 28, 28)``, not
flattened to ``(N, 784)``: spatial operations such as cropping stay natural,
and flattening later is a cheap ``x.reshape(len(x), -1)``.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import os
import sys
import tempfile
import urllib.request
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "DATA_DIR_ENV_VAR",
    "DOWNLOAD_TIMEOUT",
    "IDXFormatError",
    "MNISTNotFoundError",
    "MNIST_MIRRORS",
    "MNIST_SHA256",
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


def load_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file into a NumPy array.

    Gzip compression is detected from the file's first bytes, not its name,
    so ``foo-ubyte`` and ``foo-ubyte.gz`` may each be compressed or not.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.

    Returns
    -------
    numpy.ndarray
        A new, writable array in native byte order, with the shape and dtype
        stored in the file header.

    Raises
    ------
    IDXFormatError
        If the gzip stream is truncated or corrupt, or the header or the
        payload length is invalid.
    """
    raw = Path(path).read_bytes()
    return _parse_idx(_decompress_if_gzipped(raw, source=str(path)), source=str(path))


def _decompress_if_gzipped(raw: bytes, source: str) -> bytes:
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
        raise IDXFormatError(
            f"{source}: expected a complete gzip stream (the file starts with the gzip magic bytes), "
            f"found a truncated or corrupt one ({error})"
        ) from error


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

# Seconds to wait for a connection (and for each read): keeps the offline case fast.
DOWNLOAD_TIMEOUT = 5.0


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
        If given, this directory is used as is.

    Returns
    -------
    pathlib.Path
        ``root`` if given. Otherwise, if the environment variable
        ``TINYGRAD_EDU_DATA`` is set to a directory ``D``: ``D`` itself when it
        directly holds at least one MNIST file (with or without ``.gz``), else
        ``D/mnist``. Otherwise the per-user cache
        ``$XDG_CACHE_HOME/tinygrad-edu/mnist`` (``~/.cache/tinygrad-edu/mnist``
        when ``XDG_CACHE_HOME`` is unset).
    """
    if root is not None:
        return Path(root)
    data_dir = os.environ.get(DATA_DIR_ENV_VAR)
    if data_dir:
        directory = Path(data_dir)
        return directory if any(_find_file(directory, name) for name in MNIST_SHA256) else directory / "mnist"
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home) / "tinygrad-edu" / "mnist"


def mnist(
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
    mirrors: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load MNIST, downloading the missing files if allowed.

    Local files are checked for structure (valid IDX, uint8 images of shape
    ``(N, 28, 28)``, one label in 0..9 per image) but not for their exact
    count or checksum, so subsets and drop-in replacements in the same format
    (e.g. Fashion-MNIST) work. Downloaded files are verified against
    `MNIST_SHA256` before they are written.

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
        `MNIST_MIRRORS`.

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
        If a local file is corrupt or does not hold MNIST-shaped data.
    """
    directory = mnist_directory(root)
    missing = [name for name in MNIST_SHA256 if _find_file(directory, name) is None]
    if missing and not download:
        raise MNISTNotFoundError(
            _missing_files_message(directory, missing, "Downloading is disabled (download=False).")
        )
    for position, name in enumerate(missing):
        failures = _download(name, directory, MNIST_MIRRORS if mirrors is None else mirrors)
        if failures:  # stop at the first failure: offline, every later file would fail too
            reason = "Download failed:\n" + "\n".join(f"  {failure}" for failure in failures)
            raise MNISTNotFoundError(_missing_files_message(directory, missing[position:], reason))

    x_train, y_train = _load_split(directory, "train")
    x_test, y_test = _load_split(directory, "t10k")
    return x_train, y_train, x_test, y_test


def _find_file(directory: Path, name: str) -> Path | None:
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _missing_files_message(directory: Path, missing: list[str], reason: str) -> str:
    return (
        f"MNIST files missing in {directory}: {', '.join(missing)} (each with or without .gz).\n"
        f"{reason}\n"
        f"To work offline, put the files in {directory}, pass mnist(root=...), or set the "
        f"environment variable {DATA_DIR_ENV_VAR} to a directory holding them "
        f"(directly or in an 'mnist' subfolder).\n"
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
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:
                payload = response.read()
            _verify_sha256(payload, name, source=url)
        except (OSError, ValueError, http.client.HTTPException) as error:
            failures.append(f"{url}: {error}")
            continue
        filename = f"{name}.gz" if payload.startswith(GZIP_MAGIC) else name
        directory.mkdir(parents=True, exist_ok=True)
        _write_atomically(directory / filename, payload)
        return []
    return failures


def _verify_sha256(payload: bytes, name: str, source: str) -> None:
    digest = hashlib.sha256(_decompress_if_gzipped(payload, source)).hexdigest()
    if digest != MNIST_SHA256[name]:
        raise ValueError(
            f"SHA-256 mismatch for the decompressed {name}: expected {MNIST_SHA256[name]}, found {digest}"
        )


def _write_atomically(path: Path, payload: bytes) -> None:
    """Write via a temporary file in the same directory, so ``path`` is either complete or absent."""
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as temp_file:
            temp_file.write(payload)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _load_split(directory: Path, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    images_path = _find_file(directory, f"{prefix}-images-idx3-ubyte")
    labels_path = _find_file(directory, f"{prefix}-labels-idx1-ubyte")
    assert images_path is not None and labels_path is not None, "mnist() checked that all files exist"
    images, labels = load_idx(images_path), load_idx(labels_path)
    if images.dtype != np.uint8 or images.shape[1:] != (28, 28):
        raise IDXFormatError(
            f"{images_path}: expected uint8 images of shape (N, 28, 28), "
            f"found {images.dtype} of shape {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.shape != (len(images),):
        raise IDXFormatError(
            f"{labels_path}: expected uint8 labels of shape ({len(images)},) to match {images_path.name}, "
            f"found {labels.dtype} of shape {labels.shape}"
        )
    if np.any(labels > 9):
        raise IDXFormatError(f"{labels_path}: expected digits 0 to 9, found the label {labels.max()}")
    return images, labels.astype(np.int64)
