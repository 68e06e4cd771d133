"""Every wire Struct round-trips, tolerates unknown fields, and bad bodies name the field path."""

from __future__ import annotations

import inspect
import typing
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from cluster_schema import (
    additions,
    agent,
    alerts,
    backups,
    base,
    charts,
    codec,
    config_files,
    contrib,
    errors,
    fleet,
    leader,
    lifecycle,
    log_pages,
    mqtt,
    people,
    profiles,
    rollout,
    schedules,
)
from cluster_schema.errors import BadRequest, ErrorBody

# every module of wire types
MODULES = (agent, leader, mqtt, contrib, additions, alerts, backups, charts, config_files, fleet, lifecycle)
MODULES += (log_pages, people, profiles, rollout, schedules)


def wire_types() -> list[type[msgspec.Struct]]:
    found: list[type[msgspec.Struct]] = [ErrorBody]
    for mod in MODULES:
        for _, obj in inspect.getmembers(mod, inspect.isclass):
            if (
                issubclass(obj, (base.Wire, contrib.Descriptor))
                and obj not in (base.Wire, contrib.Descriptor)
                and obj.__module__ == mod.__name__
            ):
                found.append(obj)
    return found


def _sample(tp: Any, name: str = "x") -> Any:
    """A value of the annotated type, built from the type itself so new Structs are covered automatically."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:  # a msgspec.Meta constraint: the first sample that satisfies it
        for value in (_sample(args[0], name), *CONSTRAINED_SAMPLES):
            if not _fails(tp, value):
                return value
        raise AssertionError(f"no sample for {tp!r}")
    if tp is datetime:
        return datetime(2026, 1, 31, 12, tzinfo=UTC)
    if tp is str:
        return f"s_{name}"
    if tp is bool:
        return True
    if tp is int:
        return 7
    if tp is float:
        return 1.5
    if tp is Any:
        return {"k": 1}
    if tp is type(None):
        return None
    if origin is typing.Literal:
        return args[0]
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        non_none = [a for a in args if a is not type(None)]
        return _sample(non_none[0], name)
    if origin is list:
        return [_sample(args[0], name)]
    if origin is tuple:
        return tuple(_sample(a, name) for a in args)
    if origin is dict:
        key = _sample(args[0], "key") if typing.get_origin(args[0]) is typing.Annotated else "key"
        return {key: _sample(args[1], name)}
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return build(tp)
    raise AssertionError(f"no sample for {tp!r}")


CONSTRAINED_SAMPLES: tuple[Any, ...] = (
    "unit1",
    "KEY",
    "a" * 64,
    "abcdefghijklmnopqrstuvwxyz",
    1,
    [],
    {"A": 50.0},
)


def _fails(tp: Any, value: Any) -> bool:
    try:
        msgspec.convert(value, tp)
    except msgspec.ValidationError:
        return True
    return False


def build(cls: type[msgspec.Struct]) -> msgspec.Struct:
    hints = typing.get_type_hints(cls, include_extras=True)
    return cls(**{f: _sample(hints[f], f) for f in cls.__struct_fields__})


@pytest.mark.parametrize("cls", wire_types(), ids=lambda c: c.__name__)
def test_round_trip(cls: type[msgspec.Struct]) -> None:
    obj = build(cls)
    data = codec.encode(obj)
    assert codec.decode(cls, data) == obj


@pytest.mark.parametrize(
    "cls", [c for c in wire_types() if not issubclass(c, contrib.Descriptor)], ids=lambda c: c.__name__
)
def test_unknown_fields_are_accepted(cls: type[msgspec.Struct]) -> None:
    raw = msgspec.to_builtins(build(cls))
    raw["a_field_from_a_newer_version"] = {"nested": [1, 2]}
    assert codec.decode(cls, msgspec.json.encode(raw)) == build(cls)


def test_bad_body_names_the_field_path() -> None:
    with pytest.raises(BadRequest) as exc:
        codec.decode(leader.UnitCreate, b'{"name": "u1", "port": "eighty"}')
    assert exc.value.status == 400
    assert "`$.port`" in exc.value.message
    body = msgspec.json.decode(codec.encode(exc.value.body()))
    assert set(body) == {"error", "message"}
    assert body["error"] == "invalid_field"


def test_dict_value_path_names_the_key() -> None:
    with pytest.raises(BadRequest) as exc:
        codec.decode(agent.RunJobRequest, b'{"options": {"duration": 5, "target_rpm": [500]}}')
    assert exc.value.message.endswith("- at `$.options.target_rpm`"), exc.value.message
    with pytest.raises(BadRequest) as exc:
        codec.decode(leader.SettingsPatch, b'{"settings": {"a": 1, "b": {"x": 1}}}')
    assert "`$.settings.b`" in exc.value.message


def test_missing_required_field_is_named() -> None:
    with pytest.raises(BadRequest) as exc:
        codec.decode(agent.SettingsUpdateRequest, b"{}")
    assert "settings" in exc.value.message


def test_malformed_json() -> None:
    with pytest.raises(BadRequest) as exc:
        codec.decode(agent.RunJobRequest, b'{"options": ')
    assert exc.value.code == "malformed_json"


def test_nested_field_path() -> None:
    with pytest.raises(BadRequest) as exc:
        codec.decode(
            contrib.JobDescriptor,
            b'{"job_name":"j","display_name":"J","description":"",'
            b'"published_settings":[{"key":"k","type":"nope"}]}',
        )
    assert "$.published_settings[0].type" in exc.value.message


def test_empty_body_decodes_as_empty_object() -> None:
    assert codec.decode(agent.RunJobRequest, b"") == agent.RunJobRequest()


def test_new_fields_have_defaults() -> None:
    """Fields beyond the first release's required ones must default, so old peers' bodies still decode."""
    # Every Struct decodes from its required fields alone; these are the contract's minimal shapes.
    for cls in wire_types():
        required = {
            f for f, d in zip(cls.__struct_fields__, _defaults(cls), strict=True) if d is msgspec.NODEFAULT
        }
        raw = {k: v for k, v in msgspec.to_builtins(build(cls)).items() if k in required}
        codec.decode(cls, msgspec.json.encode(raw))


def _defaults(cls: type[msgspec.Struct]) -> list[Any]:
    fields = msgspec.structs.fields(cls)
    return [f.default if f.default is not msgspec.NODEFAULT else f.default_factory for f in fields]


def test_descriptors_refuse_misspelt_keys() -> None:
    with pytest.raises(BadRequest, match="titel"):
        codec.decode(contrib.ChartDescriptor, b'{"key":"od","title":"OD","titel":"x","mqtt_topic":"a/b"}')


def test_one_decoder_per_type() -> None:
    assert codec.decoder(agent.RunJobRequest) is codec.decoder(agent.RunJobRequest)


def test_error_types_carry_status() -> None:
    statuses = {
        cls.status
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.ApiError)
    }
    assert {400, 401, 403, 404, 409, 429, 502, 504} <= statuses
