"""Safe YAML loading, faster for the plain documents profiles are: libyaml's parser and composer, a
memoised implicit-tag resolver, and a direct node walk for maps, lists and strings. Every other node (ints,
floats, bools, nulls, timestamps, merge keys…) goes to PyYAML's SafeConstructor, so the result is what
`yaml.safe_load` gives; no tag outside the safe set is ever constructed.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MAP, _SEQ, _STR = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"


class _Loader(_Base):
    _resolved: dict[tuple[Any, ...], str] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        # profiles repeat the same scalars (`type: start`, `t: 0s`) many times: resolve each once
        if kind is not ScalarNode:
            return str(super().resolve(kind, value, implicit))
        key = (value, implicit)
        tag = self._resolved.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(self._resolved) < 50_000:
                self._resolved[key] = tag
        return tag


MAX_NODES = 200_000  # expanded through aliases: a billion-laughs document is refused, not expanded later


def load(text: str) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded(node, {}) > MAX_NODES:
            raise yaml.constructor.ConstructorError(
                None, None, f"the document expands to more than {MAX_NODES} values through its aliases"
            )
        return _construct(loader, node, {})
    finally:
        loader.dispose()


def _expanded(node: Node, sizes: dict[int, int]) -> int:
    """How many values the document holds once every alias is written out (each node counted once)."""
    size = sizes.get(id(node))
    if size == 0:  # still being counted: the node holds itself
        raise yaml.constructor.ConstructorError(None, None, "a recursive alias (a value that holds itself)")
    if size is not None:
        return size
    sizes[id(node)] = 0
    if isinstance(node, MappingNode):
        size = 1 + sum(_expanded(k, sizes) + _expanded(v, sizes) for k, v in node.value)
    elif isinstance(node, SequenceNode):
        size = 1 + sum(_expanded(item, sizes) for item in node.value)
    else:
        size = 1
    sizes[id(node)] = min(size, MAX_NODES + 1)
    return sizes[id(node)]


def _construct(loader: Any, node: Node, memo: dict[int, Any]) -> Any:
    seen = memo.get(id(node))
    if seen is not None:
        return seen
    tag = node.tag
    if isinstance(node, MappingNode) and tag == _MAP and not any(k.tag == _MERGE for k, _ in node.value):
        out: dict[Any, Any] = {}
        memo[id(node)] = out
        for key_node, value_node in node.value:
            key = _construct(loader, key_node, memo)
            try:
                out[key] = _construct(loader, value_node, memo)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found unhashable key",
                    key_node.start_mark,
                ) from None
        return out
    if isinstance(node, SequenceNode) and tag == _SEQ:
        items: list[Any] = []
        memo[id(node)] = items
        items.extend(_construct(loader, item, memo) for item in node.value)
        return items
    if isinstance(node, ScalarNode) and tag == _STR:
        return node.value
    value = loader.construct_object(node, deep=True)  # PyYAML's safe constructor for the rest
    memo[id(node)] = value
    return value


def lines_of(text: str, paths: list[str]) -> list[int | None]:
    """The 1-based line of each diagnostic path (`common.jobs.x.actions[1].t`) in the text: the deepest
    node the path reaches (a missing field points at its parent). The text is composed once."""
    if not paths:
        return []
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [mark.line + 1 if mark is not None else None] * len(paths)
    return [None if root is None else _line(root, path) for path in paths]


def _line(node: Node, path: str) -> int:
    for segment in path.replace("[", ".[").split(".") if path else []:
        if not segment:
            continue
        found: Node | None = None
        if segment.startswith("[") and isinstance(node, SequenceNode):
            i = int(segment.strip("[]"))
            found = node.value[i] if i < len(node.value) else None
        elif isinstance(node, MappingNode):
            found = next((v for k, v in node.value if k.value == segment), None)
        if found is None:
            break
        node = found
    return int(node.start_mark.line) + 1
