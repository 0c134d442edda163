"""Tests for nn.datasets: IDX parsing, MNIST lookup, download and validation.

No test reaches the internet: downloads are served by a local HTTP server on
127.0.0.1, and the default mirrors are replaced by a closed local port.
The test files are written here byte by byte, independently of the code under test.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import os
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from nn import datasets
from nn.datasets import IDXFormatError, MNISTNotFoundError, load_idx, mnist, mnist_directory

ENV_VAR = "TINYGRAD_EDU_DATA"
REAL_DATA_DIR = os.environ.get(ENV_VAR)  # read before the isolation fixture removes it

IDX_TYPE_CODES = {
    np.dtype(np.uint8): 0x08,
    np.dtype(np.int8): 0x09,
    np.dtype(np.int16): 0x0B,
    np.dtype(np.int32): 0x0C,
    np.dtype(np.float32): 0x0D,
    np.dtype(np.float64): 0x0E,
}
MNIST_NAMES = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
]


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode ``array`` as IDX: magic, big-endian uint32 sizes, big-endian data."""
    magic = bytes([0, 0, IDX_TYPE_CODES[array.dtype], array.ndim])
    sizes = struct.pack(f">{array.ndim}I", *array.shape)
    return magic + sizes + array.astype(array.dtype.newbyteorder(">")).tobytes()


def random_array(dtype: np.dtype, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, endpoint=True, dtype=dtype)


def synthetic_mnist(n_train: int = 6, n_test: int = 4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    return {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def write_mnist(directory: Path, arrays: dict[str, np.ndarray], gzipped: bool = True) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        data = idx_bytes(array)
        if gzipped:
            (directory / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (directory / name).write_bytes(data)


def assert_loaded(loaded: tuple[np.ndarray, ...], arrays: dict[str, np.ndarray]) -> None:
    for array, name in zip(loaded, MNIST_NAMES):
        np.testing.assert_array_equal(array, arrays[name])
    x_train, y_train, x_test, y_test = loaded
    assert x_train.dtype == x_test.dtype == np.uint8
    assert y_train.dtype == y_test.dtype == np.int64


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"  # nothing listens there any more


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setattr(datasets, "MNIST_MIRRORS", (closed_port_url(),))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_mirror(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """Serve ``<tmp>/served`` over HTTP; yields (directory of the files, mirror URL)."""
    served = tmp_path / "served"
    files = served / "mnist"
    files.mkdir(parents=True)
    handler = functools.partial(QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield files, f"http://127.0.0.1:{server.server_address[1]}/mnist/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def served_mnist(local_mirror: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> tuple[dict, str]:
    """Synthetic MNIST on the local mirror, with the module's checksums set to match it."""
    files, url = local_mirror
    arrays = synthetic_mnist()
    write_mnist(files, arrays)
    checksums = {name: hashlib.sha256(idx_bytes(array)).hexdigest() for name, array in arrays.items()}
    monkeypatch.setattr(datasets, "MNIST_SHA256", checksums)
    return arrays, url


# --- load_idx ---------------------------------------------------------------


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("dtype", list(IDX_TYPE_CODES), ids=str)
def test_load_idx_reads_every_dtype(tmp_path: Path, dtype: np.dtype, gzipped: bool) -> None:
    array = random_array(dtype, (3, 4, 5))
    data = idx_bytes(array)
    path = tmp_path / "array.idx"
    path.write_bytes(gzip.compress(data) if gzipped else data)

    loaded = load_idx(path)

    assert loaded.dtype == dtype and loaded.dtype.isnative
    np.testing.assert_array_equal(loaded, array)
    assert loaded.flags.writeable


def test_load_idx_detects_gzip_by_content_not_name(tmp_path: Path) -> None:
    array = random_array(np.dtype(np.uint8), (2, 3))
    compressed_without_suffix = tmp_path / "images-ubyte"
    compressed_without_suffix.write_bytes(gzip.compress(idx_bytes(array)))
    plain_with_suffix = tmp_path / "images-ubyte.gz"
    plain_with_suffix.write_bytes(idx_bytes(array))

    np.testing.assert_array_equal(load_idx(compressed_without_suffix), array)
    np.testing.assert_array_equal(load_idx(plain_with_suffix), array)


VALID = idx_bytes(random_array(np.dtype(np.int16), (2, 3)))  # 4 + 8 header bytes, then 12 data bytes


@pytest.mark.parametrize(
    ("data", "expected_fragments"),
    [
        (VALID[:-5], ["truncated", "expected 12 bytes of data after the header", "found 7"]),
        (VALID + b"\x00\x00", ["expected 12 bytes of data after the header", "found 14"]),
        (b"\x01\x00" + VALID[2:], ["two zero bytes", "0x01 0x00"]),
        (VALID[:2] + b"\x07" + VALID[3:], ["data type code", "0x07"]),
        (VALID[:8], ["truncated", "12-byte header", "found 8"]),
        (VALID[:3] + b"\x00", ["at least 1 dimension", "found 0"]),
        (b"", ["4-byte", "found only 0"]),
        (gzip.compress(VALID)[:-12], ["truncated or corrupt", "gzip"]),
        (gzip.compress(VALID)[:-8] + b"\x00\x00\x00\x00" + gzip.compress(VALID)[-4:], ["corrupt", "gzip"]),
    ],
    ids=[
        "payload-too-short",
        "payload-too-long",
        "wrong-magic",
        "unknown-dtype",
        "truncated-header",
        "zero-dimensions",
        "empty-file",
        "truncated-gzip",
        "gzip-crc-mismatch",
    ],
)
def test_load_idx_rejects_malformed_files(tmp_path: Path, data: bytes, expected_fragments: list[str]) -> None:
    path = tmp_path / "broken-idx1-ubyte"
    path.write_bytes(data)

    with pytest.raises(IDXFormatError) as error:
        load_idx(path)

    assert isinstance(error.value, ValueError)
    message = str(error.value)
    assert str(path) in message
    for fragment in expected_fragments:
        assert fragment in message


# --- mnist from local files --------------------------------------------------


def test_mnist_loads_local_files_with_or_without_gz(tmp_path: Path) -> None:
    arrays = synthetic_mnist()
    train = {name: a for name, a in arrays.items() if name.startswith("train")}
    test = {name: a for name, a in arrays.items() if name.startswith("t10k")}
    write_mnist(tmp_path, train, gzipped=True)
    write_mnist(tmp_path, test, gzipped=False)

    assert_loaded(mnist(tmp_path, download=False, verify=False), arrays)


@pytest.mark.parametrize(
    ("name", "bad_array", "fragment"),
    [
        ("train-images-idx3-ubyte", np.zeros((6, 27, 27), np.uint8), "shape (N, 28, 28)"),
        ("train-images-idx3-ubyte", np.zeros((6, 28, 28), np.float32), "uint8 images"),
        ("t10k-labels-idx1-ubyte", np.zeros(5, np.uint8), "shape (4,)"),
        ("t10k-labels-idx1-ubyte", np.array([0, 1, 10, 2], np.uint8), "label 10"),
    ],
    ids=["wrong-image-size", "wrong-image-dtype", "label-count-mismatch", "label-out-of-range"],
)
def test_mnist_rejects_files_that_are_not_mnist(
    tmp_path: Path, name: str, bad_array: np.ndarray, fragment: str
) -> None:
    arrays = synthetic_mnist() | {name: bad_array}
    write_mnist(tmp_path, arrays)

    with pytest.raises(IDXFormatError, match=name) as error:
        mnist(tmp_path, download=False, verify=False)
    assert fragment in str(error.value)


def test_mnist_without_download_lists_exactly_the_missing_files(tmp_path: Path) -> None:
    arrays = synthetic_mnist()
    write_mnist(tmp_path, {name: arrays[name] for name in MNIST_NAMES[:2]})

    with pytest.raises(MNISTNotFoundError) as error:
        mnist(tmp_path, download=False)

    assert isinstance(error.value, FileNotFoundError)
    message = str(error.value)
    assert f"missing in {tmp_path}: t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte " in message
    assert "train-" not in message.splitlines()[0]
    assert ENV_VAR in message


# --- where mnist looks --------------------------------------------------------


def test_root_argument_is_used_as_is(tmp_path: Path) -> None:
    assert mnist_directory(tmp_path / "somewhere") == tmp_path / "somewhere"


def test_env_var_directory_holding_the_files_directly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrays = synthetic_mnist()
    write_mnist(tmp_path / "data", arrays)
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "data"))

    assert mnist_directory() == tmp_path / "data"
    assert_loaded(mnist(download=False, verify=False), arrays)


def test_env_var_directory_with_mnist_subfolder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    arrays = synthetic_mnist()
    write_mnist(tmp_path / "data" / "mnist", arrays)
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "data"))

    assert mnist_directory() == tmp_path / "data" / "mnist"
    assert_loaded(mnist(download=False, verify=False), arrays)


def test_default_is_the_xdg_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert mnist_directory() == tmp_path / "cache" / "tinygrad-edu" / "mnist"


def test_default_without_xdg_is_home_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))  # what Path.home() reads on Windows
    assert mnist_directory() == tmp_path / ".cache" / "tinygrad-edu" / "mnist"


# --- download -------------------------------------------------------------------


def test_download_writes_verified_files(tmp_path: Path, served_mnist: tuple[dict, str]) -> None:
    arrays, url = served_mnist
    root = tmp_path / "downloads"

    assert_loaded(mnist(root, mirrors=[url]), arrays)

    assert sorted(p.name for p in root.iterdir()) == sorted(f"{name}.gz" for name in MNIST_NAMES)
    assert_loaded(mnist(root, download=False), arrays)  # the files stay for next time


def test_download_only_fetches_missing_files(tmp_path: Path, served_mnist: tuple[dict, str]) -> None:
    arrays, url = served_mnist
    root = tmp_path / "downloads"
    write_mnist(root, {"train-images-idx3-ubyte": arrays["train-images-idx3-ubyte"]}, gzipped=False)

    assert_loaded(mnist(root, mirrors=[url]), arrays)

    assert "train-images-idx3-ubyte.gz" not in {p.name for p in root.iterdir()}


def test_download_falls_back_to_the_next_mirror(tmp_path: Path, served_mnist: tuple[dict, str]) -> None:
    arrays, url = served_mnist
    missing_path = url.replace("/mnist/", "/nothing-here/")  # the server answers 404

    assert_loaded(mnist(tmp_path / "downloads", mirrors=[closed_port_url(), missing_path, url]), arrays)


def test_download_from_file_url(tmp_path: Path, served_mnist: tuple[dict, str], local_mirror) -> None:
    arrays, _ = served_mnist
    files, _ = local_mirror

    assert_loaded(mnist(tmp_path / "downloads", mirrors=[files.as_uri()]), arrays)


@pytest.mark.parametrize("corrupted", ["train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"])
def test_checksum_mismatch_leaves_no_file_behind(
    tmp_path: Path, served_mnist: tuple[dict, str], monkeypatch: pytest.MonkeyPatch, corrupted: str
) -> None:
    _, url = served_mnist
    monkeypatch.setitem(datasets.MNIST_SHA256, corrupted, "0" * 64)
    root = tmp_path / "downloads"
    root.mkdir()

    with pytest.raises(MNISTNotFoundError, match="SHA-256 mismatch") as error:
        mnist(root, mirrors=[url])

    assert corrupted in str(error.value).splitlines()[0]
    verified_before = MNIST_NAMES[: MNIST_NAMES.index(corrupted)]
    assert sorted(p.name for p in root.iterdir()) == sorted(f"{name}.gz" for name in verified_before)


def test_failed_write_leaves_no_temporary_file(
    tmp_path: Path, served_mnist: tuple[dict, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = served_mnist
    root = tmp_path / "downloads"

    def failing_replace(source: str, destination: str) -> None:
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(datasets.os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated"):
        mnist(root, mirrors=[url])

    assert list(root.iterdir()) == []


def test_unreachable_mirror_fails_fast_with_offline_instructions(tmp_path: Path) -> None:
    start = time.perf_counter()
    with pytest.raises(MNISTNotFoundError) as error:
        mnist()  # the isolation fixture points the defaults at tmp_path and a closed port
    elapsed = time.perf_counter() - start

    assert elapsed < 2.0
    message = str(error.value)
    expected_directory = tmp_path / "xdg-cache" / "tinygrad-edu" / "mnist"
    assert f"missing in {expected_directory}: {', '.join(MNIST_NAMES)} " in message
    assert "Download failed" in message and ENV_VAR in message
    assert not expected_directory.exists()


# --- the real data ----------------------------------------------------------------


def test_real_mnist(monkeypatch: pytest.MonkeyPatch) -> None:
    if not REAL_DATA_DIR:
        pytest.skip(f"set {ENV_VAR} to a directory holding the MNIST files to run this test")
    monkeypatch.setenv(ENV_VAR, REAL_DATA_DIR)
    directory = mnist_directory()
    found = {}
    for name in MNIST_NAMES:
        candidates = [path for path in (directory / name, directory / f"{name}.gz") if path.is_file()]
        if not candidates:
            pytest.skip(f"{name}(.gz) not found in {directory} ({ENV_VAR}={REAL_DATA_DIR})")
        found[name] = candidates[0]

    x_train, y_train, x_test, y_test = mnist(download=False)

    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert x_train.dtype == x_test.dtype == np.uint8
    assert y_train.dtype == y_test.dtype == np.int64
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))
    for name, path in found.items():  # the module's checksums match the real, decompressed files
        raw = path.read_bytes()
        content = gzip.decompress(raw) if raw.startswith(b"\x1f\x8b") else raw
        assert hashlib.sha256(content).hexdigest() == datasets.MNIST_SHA256[name], name


# --- nothing lost, nothing corrupt --------------------------------------------------


@pytest.fixture
def known_checksums(monkeypatch: pytest.MonkeyPatch) -> dict[str, np.ndarray]:
    """Synthetic MNIST whose checksums and sizes the module knows, as it knows the real ones."""
    arrays = synthetic_mnist()
    checksums = {name: hashlib.sha256(idx_bytes(array)).hexdigest() for name, array in arrays.items()}
    monkeypatch.setattr(datasets, "MNIST_SHA256", checksums)
    monkeypatch.setattr(datasets, "MNIST_SIZES", {n: len(idx_bytes(a)) for n, a in arrays.items()})
    return arrays


def test_verified_local_files_load(tmp_path: Path, known_checksums: dict[str, np.ndarray]) -> None:
    write_mnist(tmp_path, known_checksums, gzipped=False)
    assert_loaded(mnist(tmp_path, download=False), known_checksums)


def test_a_raw_file_with_one_changed_label_is_caught(tmp_path: Path, known_checksums: dict[str, np.ndarray]) -> None:
    changed = dict(known_checksums)
    labels = changed["t10k-labels-idx1-ubyte"].copy()
    labels[0] = (labels[0] + 1) % 10
    changed["t10k-labels-idx1-ubyte"] = labels
    write_mnist(tmp_path, changed, gzipped=False)

    with pytest.raises(IDXFormatError) as error:
        mnist(tmp_path, download=False)
    message = str(error.value)
    assert str(tmp_path / "t10k-labels-idx1-ubyte") in message and "SHA-256" in message and "Delete" in message
    assert mnist(tmp_path, download=False, verify=False)[3][0] == labels[0]  # other data: the user's choice


def test_a_truncated_file_in_the_cache_says_to_delete_it(
    tmp_path: Path, known_checksums: dict[str, np.ndarray]
) -> None:
    write_mnist(tmp_path, known_checksums)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-20])

    with pytest.raises(IDXFormatError) as error:
        mnist(tmp_path, download=False)
    assert f"Delete {path}" in str(error.value)


def test_a_valid_file_holding_zero_images_is_an_error(tmp_path: Path) -> None:
    arrays = synthetic_mnist() | {
        "t10k-images-idx3-ubyte": np.zeros((0, 28, 28), np.uint8),
        "t10k-labels-idx1-ubyte": np.zeros(0, np.uint8),
    }
    write_mnist(tmp_path, arrays)
    with pytest.raises(IDXFormatError, match="t10k-images-idx3-ubyte.gz: expected at least one image"):
        mnist(tmp_path, download=False, verify=False)


def test_a_local_gzip_bomb_stops_at_the_known_size(tmp_path: Path, known_checksums: dict[str, np.ndarray]) -> None:
    write_mnist(tmp_path, known_checksums)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(5_000_000), compresslevel=9))
    with pytest.raises(IDXFormatError, match="train-labels-idx1-ubyte.gz: expected at most .* gzip bomb"):
        mnist(tmp_path, download=False)


class MisbehavingMirror(http.server.BaseHTTPRequestHandler):
    """/trickle/: one byte of body every 50 ms; /slow-headers/: the same in the headers; /endless/: a body that
    never ends; /bomb/: 5 MB of zeros, gzipped.

    Each stops on its own after a few seconds or megabytes, so a loader that does not stop fails the test
    instead of hanging it.
    """

    def do_GET(self) -> None:
        if self.path.startswith("/slow-headers/"):
            self.wfile.write(b"HTTP/1.0 200 OK\r\nX-Slow: ")
            for _ in range(100):
                self.wfile.write(b"a")
                self.wfile.flush()
                time.sleep(0.05)
            return
        self.send_response(200)
        if self.path.startswith("/bomb/"):
            body = gzip.compress(bytes(5_000_000), compresslevel=9)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.end_headers()
        try:
            for _ in range(100):
                if self.path.startswith("/trickle/"):
                    self.wfile.write(b"\x1f")
                    self.wfile.flush()
                    time.sleep(0.05)
                else:
                    self.wfile.write(bytes(1 << 16))
        except OSError:
            pass  # the client hung up, as it should

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def misbehaving_mirror() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), MisbehavingMirror)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("kind", ["trickle", "slow-headers"])
def test_a_trickling_mirror_hits_the_deadline_and_is_named(
    tmp_path: Path, misbehaving_mirror: str, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setattr(datasets, "DOWNLOAD_DEADLINE", 0.3)
    with pytest.raises(MNISTNotFoundError) as error:
        mnist(tmp_path / "cache", mirrors=[f"{misbehaving_mirror}/{kind}/"])
    assert f"{misbehaving_mirror}/{kind}/train-images-idx3-ubyte.gz: timed out" in str(error.value)
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize(("kind", "fragment"), [("endless", "a wrong file"), ("bomb", "gzip bomb")])
def test_an_oversized_download_stops_at_the_known_size(
    tmp_path: Path, misbehaving_mirror: str, known_checksums: dict[str, np.ndarray], kind: str, fragment: str
) -> None:
    with pytest.raises(MNISTNotFoundError) as error:
        mnist(tmp_path / "cache", mirrors=[f"{misbehaving_mirror}/{kind}/"])
    assert f"{misbehaving_mirror}/{kind}/train-images-idx3-ubyte.gz: " in str(error.value)
    assert fragment in str(error.value)


def test_a_full_disk_while_caching_names_the_directory_and_leaves_it_clean(
    tmp_path: Path, served_mnist: tuple[dict, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = served_mnist
    root = tmp_path / "downloads"

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError) as error:
        mnist(root, mirrors=[url])
    message = str(error.value)
    assert str(root) in message and "No space left" in message and "Free some space" in message
    assert ".part" not in message and list(root.iterdir()) == []


def test_leftovers_of_a_killed_download_are_removed(tmp_path: Path, known_checksums: dict[str, np.ndarray]) -> None:
    write_mnist(tmp_path, known_checksums)
    old = tmp_path / ".train-images-idx3-ubyte.gz.x1y2z3.part"
    recent = tmp_path / ".t10k-images-idx3-ubyte.gz.a1b2c3.part"  # may belong to a download still running
    old.write_bytes(b"half a download")
    recent.write_bytes(b"half a download")
    os.utime(old, (time.time() - 3600, time.time() - 3600))

    mnist(tmp_path, download=False)

    assert not old.exists() and recent.exists()


def test_a_directory_where_a_cache_file_belongs_is_named(tmp_path: Path, served_mnist: tuple[dict, str]) -> None:
    _, url = served_mnist
    (tmp_path / "train-labels-idx1-ubyte.gz").mkdir()
    with pytest.raises(IsADirectoryError) as error:
        mnist(tmp_path, mirrors=[url])
    assert f"{tmp_path / 'train-labels-idx1-ubyte.gz'} is in the way" in str(error.value)
    assert ".part" not in str(error.value)


def test_tilde_is_expanded_in_root_and_in_the_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert mnist_directory("~/data") == tmp_path / "data"
    monkeypatch.setenv(ENV_VAR, "~/elsewhere")
    assert mnist_directory() == tmp_path / "elsewhere" / "mnist"
    with pytest.raises(MNISTNotFoundError):
        mnist("~/data", download=False)
    assert not (Path.cwd() / "~").exists()


def test_environment_variable_naming_a_file_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "notes.txt").write_text("not a directory")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "notes.txt"))
    with pytest.raises(NotADirectoryError, match=f"{ENV_VAR} names .*notes.txt, which is a file"):
        mnist(download=False)


@pytest.mark.parametrize(
    ("mirrors", "error_type", "fragment"),
    [
        ([], ValueError, "mirrors is empty"),
        ("http://127.0.0.1:9/mnist/", TypeError, "mirrors=[url]"),
        ([b"http://127.0.0.1:9/"], ValueError, "URL string"),
        (["ftp://127.0.0.1/mnist/"], ValueError, "http://, https:// or file://"),
    ],
    ids=["empty", "one-string", "bytes", "ftp"],
)
def test_bad_mirrors_are_explained(tmp_path: Path, mirrors: object, error_type: type, fragment: str) -> None:
    with pytest.raises(error_type) as error:
        mnist(tmp_path, mirrors=mirrors)  # type: ignore[arg-type]
    assert fragment in str(error.value)
