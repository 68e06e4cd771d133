"""The `${{ }}` expression language of Pioreactor profiles: a small recursive-descent parser, no `eval`.

Grammar (precedence low to high): `or` < `and` < `not` < one comparison (`< <= == >= >`, no chains, no
`!=`) < `+ -` < `* /` < unary `+ -` < `**` (right-associative) < atoms. Atoms: numbers (floats, no
exponent), `true`/`false` (any case), names (an input or reserved name; otherwise the bare word is a string,
which is how `== thermostat` works), the functions `random() unit() experiment() job_name()
hours_elapsed()`, live lookups `<unit>:<job>:<setting>[.<key>]*` (the unit may be empty or `unit()`, the
job `job_name()`), and parentheses. Quoted strings are refused, as in Pioreactor since 26.2.

The one documented difference: unary minus binds as in arithmetic, so `-1 + 2` is 1 (Pioreactor gives -3).
"""

from __future__ import annotations

import operator
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

FUNCTIONS = ("random", "unit", "experiment", "job_name", "hours_elapsed")
_WORD = r"[A-Za-z_$][A-Za-z0-9_$]*"
_SEG = rf"(?:{_WORD}\(\)|{_WORD})"
_TOKEN = re.compile(
    rf"""\s*(?:
    (?P<lookup>(?:::|{_SEG}:){_SEG}:[A-Za-z0-9_$]+(?:\.[A-Za-z0-9_$]+)*)
  | (?P<number>(?:[0-9]*\.)?[0-9]+(?![A-Za-z0-9_.]))
  | (?P<call>{_WORD})\(\)
  | (?P<name>{_WORD})
  | (?P<op>\*\*|<=|>=|==|[-+*/<>()])
)""",
    re.VERBOSE,
)
_QUOTED = re.compile(r"""(["'])(.*?)(\1|$)""")
_CMP: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    ">=": operator.ge,
    ">": operator.gt,
}
_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
}
WRAPPED = re.compile(r"^\$\{\{(.*?)\}\}$", re.DOTALL)
INTERPOLATION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


class ExpressionError(ValueError):
    """A syntax error (found while parsing) or an evaluation error (a missing lookup, a bad function)."""


Lookup = Callable[[str, str, str], Any]  # (unit, job, setting) -> the last value seen


@dataclass
class Env:
    inputs: dict[str, Any] = field(default_factory=dict)
    unit: str = ""
    experiment: str = ""
    job_name: str = ""
    hours_elapsed: float = 0.0
    action_count: int = 0
    lookup: Lookup | None = None

    def names(self) -> dict[str, Any]:
        reserved: dict[str, Any] = {
            "unit": self.unit,
            "experiment": self.experiment,
            "job_name": self.job_name,
        }
        reserved |= {"hours_elapsed": self.hours_elapsed, "action_count": self.action_count}
        return {**self.inputs, **reserved}  # reserved names shadow inputs, as in Pioreactor


Node = tuple[Any, ...]


def _tokens(text: str) -> list[tuple[str, str]]:
    quoted = _QUOTED.search(text)
    if quoted:
        raise ExpressionError(
            f'Quoted string literals are not supported in profile expressions. Found "{quoted.group(2)}".'
        )
    out: list[tuple[str, str]] = []
    pos, end = 0, len(text.rstrip())
    while pos < end:
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ExpressionError(f"Syntax error in expression at {text[pos:].strip()[:20]!r}.")
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def accept(self, *values: str) -> str | None:
        tok = self.peek()
        if tok is not None and tok[0] in ("op", "name") and tok[1].lower() in values:
            self.i += 1
            return tok[1].lower()
        return None

    def fail(self) -> ExpressionError:
        tok = self.peek()
        where = f"at {tok[1]!r}" if tok else "at the end"
        return ExpressionError(f"Syntax error in expression {where}.")

    def parse(self) -> Node:
        if not self.tokens:
            raise ExpressionError("Syntax error in expression: it is empty.")
        node = self.or_()
        if self.peek() is not None:
            raise self.fail()
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.accept("or"):
            node = ("or", node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.accept("and"):
            node = ("and", node, self.not_())
        return node

    def not_(self) -> Node:
        if self.accept("not"):
            return ("not", self.not_())
        return self.comparison()

    def comparison(self) -> Node:
        node = self.sum()
        op = self.accept(*_CMP)
        if op:
            node = ("cmp", op, node, self.sum())
            if self.accept(*_CMP):
                raise ExpressionError("Syntax error in expression: comparisons cannot be chained.")
        return node

    def sum(self) -> Node:
        node = self.term()
        while op := self.accept("+", "-"):
            node = ("arith", op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while op := self.accept("*", "/"):
            node = ("arith", op, node, self.unary())
        return node

    def unary(self) -> Node:
        if op := self.accept("-", "+"):
            return ("neg" if op == "-" else "pos", self.unary())
        return self.power()

    def power(self) -> Node:
        node = self.atom()
        if self.accept("**"):
            node = ("arith", "**", node, self.unary())
        return node

    def atom(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise self.fail()
        kind, text = tok
        if kind == "op" and text == "(":
            self.i += 1
            node = self.or_()
            if not self.accept(")"):
                raise self.fail()
            return node
        if kind == "op" or (kind == "name" and text.lower() in ("and", "or", "not")):
            raise self.fail()
        self.i += 1
        if kind == "number":
            return ("const", float(text))
        if kind == "call":
            if text not in FUNCTIONS:
                raise ExpressionError(f"{text}() is not a valid function in profile expressions.")
            return ("call", text)
        if kind == "lookup":
            if text.startswith("::"):  # `::job:setting` is the current unit
                text = text[1:]
            unit, job, rest = text.split(":", 2)
            setting, *keys = rest.split(".")
            return ("lookup", unit, job, setting, tuple(keys))
        if text.lower() in ("true", "false"):
            return ("const", text.lower() == "true")
        return ("name", text)


@lru_cache(maxsize=4096)
def parse(text: str) -> Node:
    """The syntax tree of an expression (`${{ }}` already stripped); ExpressionError when invalid."""
    return _Parser(_tokens(text)).parse()


def unwrap(text: str) -> str:
    """`if`/`while`/`wait_until` accept the whole value with or without a `${{ }}` wrapper."""
    m = WRAPPED.match(text.strip())
    return m.group(1) if m else text


def check(text: str) -> None:
    parse(text.strip())


def evaluate(text: str | bool, env: Env) -> Any:
    if isinstance(text, bool):
        return text
    return _eval(parse(unwrap(str(text)).strip()), env)


def truthy(text: str | bool, env: Env) -> bool:
    return bool(evaluate(text, env))


def render_option(value: Any, env: Env) -> Any:
    """An option or config override: evaluated only when it is exactly `${{ … }}`, else sent as is."""
    m = WRAPPED.match(str(value)) if isinstance(value, str) else None
    return evaluate(m.group(1), env) if m else value


def render_message(message: str, env: Env) -> str:
    """A log message: every `${{ … }}` replaced by the text of its value."""
    return INTERPOLATION.sub(lambda m: _text(evaluate(m.group(1), env)), message)


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return repr(value)  # `400.0`, as Python's str() gives in Pioreactor's messages
    return str(value)


def _coerce(value: Any) -> Any:
    """Lookup values: numeric text becomes a float, `true`/`false` a bool; JSON numbers are floats."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "false"):
            return low == "true"
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _lookup(node: Node, env: Env) -> Any:
    _, unit, job, setting, keys = node
    unit = env.unit if unit in ("", "unit()") else unit
    job = env.job_name if job == "job_name()" else job
    if env.lookup is None:
        raise ExpressionError(f"{unit}:{job}:{setting} cannot be looked up here.")
    value = env.lookup(unit, job, setting)
    for key in keys:
        if not isinstance(value, dict):
            raise ExpressionError(f"Expression lookup `{unit}:{job}:{setting}` cannot take key `{key}`.")
        if key not in value:
            raise ExpressionError(
                f"Expression lookup `{unit}:{job}:{setting}` referenced missing nested key `{key}`. "
                f"Available keys: {sorted(value)}"
            )
        value = value[key]
    return _coerce(value)


def _eval(node: Node, env: Env) -> Any:
    kind = node[0]
    if kind == "const":
        return node[1]
    if kind == "name":
        return env.names().get(node[1], node[1])
    if kind == "call":
        if node[1] == "random":
            return random.random()  # noqa: S311 - a lab's coin flip, not a secret
        return getattr(env, node[1])
    if kind == "lookup":
        return _lookup(node, env)
    if kind == "not":
        return not _eval(node[1], env)
    if kind == "and":
        left = _eval(node[1], env)
        return _eval(node[2], env) if left else left
    if kind == "or":
        left = _eval(node[1], env)
        return left if left else _eval(node[2], env)
    if kind in ("neg", "pos"):
        value = _num(_eval(node[1], env))
        return -value if kind == "neg" else value
    left, right = _eval(node[2], env), _eval(node[3], env)
    try:
        if kind == "cmp":
            return _CMP[node[1]](left, right)
        return _ARITH[node[1]](_num(left), _num(right))
    except ZeroDivisionError:
        raise ExpressionError("Division by zero in expression.") from None
    except TypeError:
        raise ExpressionError(f"Cannot apply `{node[1]}` to {left!r} and {right!r}.") from None


def _num(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ExpressionError(f"Expected a number in expression, got {value!r}.")
    return value
