"""One JSON decoder per type, built once; decoding errors become the contract's 400 body."""

from __future__ import annotations

import threading
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
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise from_validation_error(exc) from None


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
