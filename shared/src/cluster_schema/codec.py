"""One JSON decoder per type, built once; decoding errors become the contract's 400 body."""

from __future__ import annotations

import re
import threading
import types
import typing
from typing import Any, TypeVar

import msgspec

from .errors import from_validation_error
from .names import PATTERN_WORDS

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
        fixed = _with_integral_floats(type_, data)
        if fixed is not None:
            return fixed
        raise from_validation_error(_in_words(_with_keys(exc, type_, data))) from None
    except msgspec.DecodeError as exc:
        raise from_validation_error(exc) from None


def _in_words(exc: msgspec.ValidationError) -> msgspec.ValidationError:
    text = str(exc)
    for pattern, words in PATTERN_WORDS.items():
        text = text.replace(f"`str` matching regex {pattern!r}", words)
    return msgspec.ValidationError(text)


def _integers(value: Any) -> tuple[Any, bool]:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value), True
    if isinstance(value, dict):
        pairs = [(k, _integers(v)) for k, v in value.items()]
        return {k: v for k, (v, _) in pairs}, any(c for _, (_, c) in pairs)
    if isinstance(value, list):
        items = [_integers(v) for v in value]
        return [v for v, _ in items], any(c for _, c in items)
    return value, False


def _with_integral_floats(type_: Any, data: bytes | str) -> Any:
    """JSON has one number type: `5.0` is the integer 5 (JSON Schema agrees), msgspec wants `5` for an
    int. Only on the error path, so a well-typed body is decoded once."""
    try:
        value, changed = _integers(msgspec.json.decode(data))
        return msgspec.convert(value, type_) if changed else None
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        return None


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
    if origin is typing.Annotated:  # a constraint (msgspec.Meta): deeper, or here
        return _locate(args[0], value, path) or path
    if origin in (typing.Union, types.UnionType) and isinstance(value, dict):  # a tagged union's member
        for arg in args:
            config = getattr(arg, "__struct_config__", None)
            if config is not None and config.tag_field and value.get(config.tag_field) == config.tag:
                return _locate(arg, value, path) or path
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct) and isinstance(value, dict):
        hints = typing.get_type_hints(tp, include_extras=True)
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
