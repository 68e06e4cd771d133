"""One JSON decoder per type, built once; decoding errors become the contract's 400 body."""

from __future__ import annotations

import re
import threading
import typing
from typing import Any, TypeVar

import msgspec

from .errors import from_validation_error

T = TypeVar("T")

_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}
_lock = threading.Lock()
_encoder = msgspec.json.Encoder()


def decoder(type_: type[T]) -> msgspec.json.Decoder[T]:
    dec = _decoders.get(type_)
    if dec is None:
        with _lock:
            dec = _decoders.setdefault(type_, msgspec.json.Decoder(type_))
    return dec


def decode(type_: type[T], data: bytes | str) -> T:
    """Decode a request body; raises BadRequest naming the field path."""
    if not data:
        data = b"{}"
    try:
        return decoder(type_).decode(data)
    except msgspec.ValidationError as exc:  # a subclass of DecodeError: keep it first
        raise from_validation_error(_with_keys(exc, type_, data)) from None
    except msgspec.DecodeError as exc:
        raise from_validation_error(exc) from None


_ANY_KEY = re.compile(r"\[\.\.\.\]")


def _with_keys(exc: msgspec.ValidationError, type_: Any, data: bytes | str) -> msgspec.ValidationError:
    """msgspec writes `$.options[...]` for a bad dict value; name the key (`$.options.target_rpm`)."""
    if not _ANY_KEY.search(str(exc)):
        return exc
    try:
        located = _locate(type_, msgspec.json.decode(data), "$")
    except (msgspec.DecodeError, RecursionError):
        return exc
    return msgspec.ValidationError(f"{str(exc).rsplit(' - at ', 1)[0]} - at `{located}`") if located else exc


def _fails(tp: Any, value: Any) -> bool:
    try:
        msgspec.convert(value, tp)
    except msgspec.ValidationError:
        return True
    return False


def _locate(tp: Any, value: Any, path: str) -> str | None:
    """The deepest path at which `value` does not fit `tp` (None when it fits)."""
    if not _fails(tp, value):
        return None
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct) and isinstance(value, dict):
        hints = typing.get_type_hints(tp)
        for name in tp.__struct_fields__:
            if name in value:
                found = _locate(hints[name], value[name], f"{path}.{name}")
                if found:
                    return found
    elif origin is dict and isinstance(value, dict):
        for key, item in value.items():
            found = _locate(args[1], item, f"{path}.{key}")
            if found:
                return found
    elif origin in (list, tuple) and isinstance(value, list) and args:
        for i, item in enumerate(value):
            found = _locate(args[0] if origin is list else args[min(i, len(args) - 1)], item, f"{path}[{i}]")
            if found:
                return found
    return path


def convert(type_: type[T], obj: Any) -> T:
    """Like decode, for already-parsed objects (YAML descriptors, query arguments)."""
    try:
        return msgspec.convert(obj, type_)
    except msgspec.ValidationError as exc:
        raise from_validation_error(exc) from None


def encode(obj: Any) -> bytes:
    return _encoder.encode(obj)


def to_builtins(obj: Any) -> Any:
    return msgspec.to_builtins(obj)
