"""`Module`, the base class of every layer and network, and `Sequential`, the simplest container.

A module owns parameters (leaf tensors with ``requires_grad=True``) and child
modules, both registered simply by assigning them as attributes. Everything a
trainer needs (``parameters()``, ``zero_grad()``, ``train()`` / ``eval()``,
``state_dict()``, saving to ``.npz``) walks that tree, as in PyTorch.
"""

from __future__ import annotations

import os
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from tinygrad_edu import Tensor
from tinygrad_edu.function import module_scope

from .atomic_files import write_atomically

NPZ_MAGIC = b"PK\x03\x04"  # an .npz file is a zip archive
NPY_MAGIC = b"\x93NUMPY"


class Parameter(Tensor):
    """A tensor that is a learnable parameter: a leaf with ``requires_grad=True``.

    ``Parameter(values)`` is a shorthand for ``Tensor(values, requires_grad=True)``
    that reads like PyTorch; any leaf tensor with ``requires_grad=True`` assigned
    to a module attribute is registered as a parameter, ``Parameter`` or not.

    Parameters
    ----------
    data : array-like
        Initial values (copied; floating data gets the default dtype).
    dtype : numpy dtype, optional
        Overrides the default dtype (float32).
    """

    __slots__ = ()

    def __init__(self, data: Any, dtype: Any = None) -> None:
        super().__init__(data, requires_grad=True, dtype=dtype)


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped: names missing from, or unknown to, the module."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class for layers and networks: subclass it, assign parameters and submodules, write ``forward``.

    Examples
    --------
    >>> from nn import Linear, Module
    >>> class TwoLayer(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = Linear(2, 8)
    ...         self.out = Linear(8, 1)
    ...     def forward(self, x):
    ...         return self.out(self.hidden(x).relu())
    >>> [name for name, _ in TwoLayer().named_parameters()]
    ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
    """

    training: bool
    _parameters: dict[str, Tensor]
    _modules: dict[str, Module]

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})

    # ------------------------------------------------------------ registration

    def __setattr__(self, name: str, value: Any) -> None:
        """Register parameters and submodules by assignment; anything else is a plain attribute.

        Values are also stored in the instance ``__dict__``, so reading
        ``self.weight`` in ``forward`` is an ordinary (fast) attribute lookup.
        """
        registry = self.__dict__.get("_parameters")
        if registry is None and isinstance(value, (Tensor, Module)):
            raise AttributeError(
                f"cannot assign {type(value).__name__} to {type(self).__name__}.{name} before "
                f"Module.__init__() has run: call super().__init__() first in "
                f"{type(self).__name__}.__init__."
            )
        if registry is not None:
            self._parameters.pop(name, None)
            self._modules.pop(name, None)
            if isinstance(value, Module):
                self._modules[name] = value
            elif isinstance(value, Tensor) and value.requires_grad and value.is_leaf:
                value.name = name
                self._parameters[name] = value
            elif isinstance(value, (list, tuple, dict)) and value:
                _warn_if_modules_inside(type(self).__name__, name, value)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    # ------------------------------------------------------------ running

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__} has no forward(): define forward(self, x) in the subclass; "
            f"calling the module runs it."
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run ``forward``, tagging every tensor it creates with this module (see ``Tensor.scope``)."""
        with module_scope(self):
            return self.forward(*args, **kwargs)

    def train(self, mode: bool = True) -> Module:
        """Put this module and all its submodules in training mode (or evaluation mode if ``mode=False``)."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode: layers such as ``Dropout`` become the identity. Same as ``train(False)``."""
        return self.train(False)

    # ------------------------------------------------------------ walking the tree

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """Yield ``(dotted_name, module)`` for this module (name ``prefix``) and every submodule, once each.

        The order is depth-first in assignment order: ``("", net)``,
        ``("layers", seq)``, ``("layers.0", linear)``, ...
        """
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{key}" if name else key, child) for key, child in module._modules.items()]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and every submodule, once each."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Yield ``(attribute_name, module)`` for the direct submodules."""
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        """The direct submodules."""
        yield from self._modules.values()

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """Yield ``(dotted_name, parameter)``, e.g. ``("layers.0.weight", w)``; a shared parameter once."""
        seen: set[int] = set()
        for module_name, module in self.named_modules(prefix):
            for name, parameter in module._parameters.items():
                if id(parameter) not in seen:
                    seen.add(id(parameter))
                    yield (f"{module_name}.{name}" if module_name else name), parameter

    def parameters(self) -> Iterator[Tensor]:
        """Every parameter of this module and its submodules, once each (what an optimizer needs)."""
        for _, parameter in self.named_parameters():
            yield parameter

    def zero_grad(self) -> None:
        """Forget all parameters' gradients (``.grad = None``, PyTorch's default)."""
        for parameter in self.parameters():
            parameter.grad = None

    # ------------------------------------------------------------ state

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's values, keyed by dotted name.

        Copies, unlike PyTorch's views: a snapshot taken as "the best model so
        far" does not keep changing while training continues.
        """
        return {name: parameter.data.copy() for name, parameter in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values into the parameters, in place (optimizers keep working on the same tensors).

        Parameters
        ----------
        state : mapping of str to array-like
            Dotted parameter names to values, e.g. from ``state_dict()`` or an ``.npz`` file.
        strict : bool
            If True (default), missing or unexpected names are an error. If
            False they are skipped and returned.

        Returns
        -------
        IncompatibleKeys
            ``(missing_keys, unexpected_keys)``; both empty when ``strict``.

        Raises
        ------
        ValueError
            Listing every missing or unexpected name (when ``strict``) and every
            shape or dtype mismatch. Nothing is changed when it is raised.
        """
        own = dict(self.named_parameters())
        missing = [name for name in own if name not in state]
        unexpected = [name for name in state if name not in own]
        problems = []
        if strict and missing:
            problems.append(f"missing key(s): {', '.join(missing)}")
        if strict and unexpected:
            problems.append(f"unexpected key(s): {', '.join(unexpected)}")
        values = {}
        for name, parameter in own.items():
            if name not in state:
                continue
            problem, value = _state_value(state[name], parameter)
            if problem:
                problems.append(f"{name}: {problem}")
            else:
                values[name] = value
        if problems:
            raise ValueError(
                f"load_state_dict into {type(self).__name__} failed:\n  "
                + "\n  ".join(problems)
                + "\nThe state must come from a module built the same way (same layer sizes and names); "
                "compare list(state) with [name for name, _ in module.named_parameters()]."
            )
        for name, value in values.items():
            own[name].data[...] = value
        return IncompatibleKeys(missing if not strict else [], unexpected if not strict else [])

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write ``state_dict()`` to an ``.npz`` file (no pickle), atomically.

        The file is written next to ``path`` under a temporary name and then
        renamed, so an interrupted save never leaves a half-written file. Read it
        back with ``load`` or `nn.load`, or with ``numpy.load(path, allow_pickle=False)``.
        """
        state = self.state_dict()
        write_atomically(path, lambda file: np.savez(file, **state))  # type: ignore[arg-type]

    def load(self, path: str | os.PathLike[str]) -> Module:
        """Load parameters saved by ``save`` (strictly: names and shapes must match). Returns self."""
        try:
            self.load_state_dict(load(path))
        except ValueError as error:
            if os.fspath(path) in str(error):
                raise
            raise ValueError(f"loading {os.fspath(path)}: {error}") from None
        return self

    # ------------------------------------------------------------ display

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr line, e.g. ``in_features=2, ...``."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, child in self._modules.items():
            child_lines = repr(child).split("\n")
            lines.append(f"  ({name}): " + "\n  ".join(child_lines))
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        extra = self.extra_repr()
        head = f"{type(self).__name__}(" + (f"{extra}\n" if extra else "\n")
        return head + "\n".join(lines) + "\n)"


class Sequential(Module):
    """Apply modules one after the other: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    The modules are registered under the names ``"0"``, ``"1"``, ..., so their
    parameters are called ``0.weight``, ``0.bias``, ... Index it like a list
    (``seq[0]``, ``seq[-1]``, ``seq[1:]``), iterate over it, take its ``len``.
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for index, module in enumerate(modules):
            if not isinstance(module, Module):
                hint = " (wrap a function in nn.Activation(fn))" if callable(module) else ""
                raise TypeError(
                    f"Sequential: item {index} is a {type(module).__name__}, not an nn.Module{hint}."
                )
            setattr(self, str(index), module)

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*items[index])
        return items[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))


def load(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read the parameters in an ``.npz`` file written by `Module.save`: a dict of dotted names to arrays.

    Nothing is unpickled. Pass the result to ``module.load_state_dict``, or
    call ``module.load(path)`` to do both.

    Raises
    ------
    ValueError
        Naming the file, when it is not a complete, uncorrupted ``.npz`` archive
        of numeric arrays (an ``.npy`` array, a text file, a truncated or empty
        file, a failed checksum, an object array).
    OSError
        When the file cannot be read (FileNotFoundError, IsADirectoryError, ...).
    """
    name = os.fspath(path)
    with open(name, "rb") as file:
        start = file.read(len(NPY_MAGIC))
    expected = "expected an .npz archive of arrays as written by Module.save"
    if not start:
        raise ValueError(f"{name}: the file is empty; {expected}")
    if start.startswith(NPY_MAGIC):
        raise ValueError(
            f"{name}: {expected}, found a single .npy array (numpy.save); save a model with module.save(path)"
        )
    if not start.startswith(NPZ_MAGIC):
        raise ValueError(f"{name}: {expected}, found something else (it does not start like a zip archive)")
    try:
        with np.load(name, allow_pickle=False) as archive:
            state = {}
            for key in archive.files:
                state[key] = _numeric_member(archive, key, name)
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        if isinstance(error, OSError) and not isinstance(error, zipfile.BadZipFile) and error.errno is not None:
            raise
        raise ValueError(f"{name}: {expected}, found a truncated or corrupt archive ({error})") from None
    return state


def _numeric_member(archive: Any, key: str, name: str) -> np.ndarray:
    try:
        value = archive[key]
    except ValueError as error:
        if "allow_pickle" not in str(error):
            raise ValueError(f"{name}: entry {key!r} is not a valid array ({error})") from None
        raise ValueError(
            f"{name}: entry {key!r} holds Python objects, which are never unpickled when loading; "
            f"a model file holds numeric arrays only (write it with Module.save)"
        ) from None
    if value.dtype.kind not in "biuf":
        raise ValueError(f"{name}: entry {key!r} has dtype {value.dtype}; expected numbers")
    return np.asarray(value)


class ModuleList(Module):
    """A list of modules whose parameters are registered, as ``torch.nn.ModuleList``.

    A plain Python list of layers assigned to an attribute is invisible to
    ``parameters()`` (a warning says so); wrap it: ``self.blocks = ModuleList([...])``.
    The modules are named ``"0"``, ``"1"``, ... (``blocks.0.weight``). It has no
    ``forward``: iterate over it in the owner's ``forward``.
    """

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end; returns self."""
        _check_module("ModuleList", len(self), module)
        setattr(self, str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add each of ``modules`` at the end; returns self."""
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(items[index])
        return items[index]

    def __setitem__(self, index: int, module: Module) -> None:
        _check_module("ModuleList", index, module)
        key = list(self._modules)[index]  # an IndexError for an index out of range, as for a list
        self._modules[key] = module
        object.__setattr__(self, key, module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "ModuleList has no forward(): it only holds modules. Iterate over it in your forward "
            "(for layer in self.layers: x = layer(x)), or use Sequential to chain them."
        )


class ModuleDict(Module):
    """A dict of modules whose parameters are registered, as ``torch.nn.ModuleDict``.

    Keys are the names in ``named_parameters()`` (``heads.digit.weight``), so they
    must be non-empty strings without dots. It has no ``forward``.
    """

    def __init__(self, modules: Mapping[str, Module] | None = None) -> None:
        super().__init__()
        for key, module in (modules or {}).items():
            self[key] = module

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ModuleDict: keys must be non-empty strings without '.', got {key!r}")
        _check_module("ModuleDict", key, module)
        self._modules[key] = module

    def __getitem__(self, key: str) -> Module:
        try:
            return self._modules[key]
        except KeyError:
            raise KeyError(f"ModuleDict has no module {key!r}; it has {list(self._modules)}") from None

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def keys(self) -> list[str]:
        return list(self._modules)

    def values(self) -> list[Module]:
        return list(self._modules.values())

    def items(self) -> list[tuple[str, Module]]:
        return list(self._modules.items())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "ModuleDict has no forward(): it only holds modules. Call the one you need in your forward, "
            "e.g. self.heads[name](x)."
        )


# ---------------------------------------------------------------- helpers


def _check_module(owner: str, position: object, module: object) -> None:
    if not isinstance(module, Module):
        hint = " (wrap a function in nn.Activation(fn))" if callable(module) else ""
        raise TypeError(f"{owner}: item {position!r} is a {type(module).__name__}, not an nn.Module{hint}.")


def _warn_if_modules_inside(owner: str, name: str, value: list[Any] | tuple[Any, ...] | dict[Any, Any]) -> None:
    """The classic trap: modules in a plain list or dict are not registered, so they have no parameters here."""
    items = value.values() if isinstance(value, dict) else value
    if any(isinstance(item, Module) for item in items):
        container = "ModuleDict" if isinstance(value, dict) else "ModuleList"
        warnings.warn(
            f"{owner}.{name} is a plain {type(value).__name__} of modules: their parameters are not "
            f"registered, so parameters(), the optimizer, state_dict() and train()/eval() do not see them. "
            f"Use self.{name} = nn.{container}(...) instead.",
            stacklevel=3,
        )


def _state_value(value: Any, parameter: Tensor) -> tuple[str, np.ndarray]:
    """(problem, array) for one state entry: empty problem when it can be copied into ``parameter`` exactly."""
    try:
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
    except (TypeError, ValueError) as error:
        return f"cannot be read as an array of numbers ({error}); is it a ragged nested list?", np.empty(0)
    if array.dtype.kind not in "biuf":
        return f"values of dtype {array.dtype} are not numbers", array
    if array.shape != parameter.shape:
        return f"shape {array.shape} in the state, {parameter.shape} in the module", array
    with np.errstate(over="ignore", invalid="ignore"):
        converted = array.astype(parameter.dtype)
    overflow = np.isfinite(array) & ~np.isfinite(converted)
    if overflow.any():
        largest = np.abs(array[overflow]).max()
        return (
            f"values up to {largest:g} are beyond the range of {parameter.dtype} (they would become inf); "
            f"the state is corrupt or was saved from a diverged run",
            array,
        )
    return "", converted
