"""Rows to records, and instants to columns: the one way every store encodes a value.

SQLite holds an instant as unix seconds (UTC), a date or a time as ISO text, an amount in mg
as decimal text (exact, never a float), a flag as 0 or 1 and an enum as its value. A stored
record (a frozen dataclass) is read by :func:`record`: each field from the column of its name,
decoded by the field's declared type, so a store spells out only the fields that are not
stored that way (a column of another name, a computed flag, a nested record).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from bot.storage.db import Row

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    R = TypeVar("R", bound=DataclassInstance)
else:
    R = TypeVar("R")

Decode = Callable[[Any], object]


def to_unix(instant: datetime) -> int:
    return int(instant.timestamp())


def from_unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def unix_or_none(instant: datetime | None) -> int | None:
    return None if instant is None else to_unix(instant)


def from_unix_or_none(seconds: int | None) -> datetime | None:
    return None if seconds is None else from_unix(seconds)


def _given_only(value: Any) -> object:
    """The decoder of a field whose type no column holds (a nested record): it must be given."""
    raise TypeError("not a column")


# By declared type, looked up by identity (so a ``datetime`` is never read as a ``date``);
# None: the value as SQLite returns it.
_DECODERS: dict[object, Decode | None] = {
    int: None,
    str: None,
    bool: bool,
    datetime: from_unix,
    date: date.fromisoformat,
    time: time.fromisoformat,
    Decimal: Decimal,
}


def _decoder(kind: object) -> Decode | None:
    """How a column is read into a field of type ``kind`` (NULL is None for an optional one)."""
    options = typing.get_args(kind)
    if isinstance(kind, types.UnionType) and len(options) == 2 and type(None) in options:
        decode = _decoder(next(option for option in options if option is not type(None)))
        if decode is None or decode is _given_only:
            return decode
        return lambda value: None if value is None else decode(value)
    if typing.get_origin(kind) is Literal:
        return None  # a Literal's choices are stored as they are
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind
    return _DECODERS.get(kind, _given_only)


@cache
def _columns(cls: type[DataclassInstance]) -> tuple[tuple[str, bool, Decode | None], ...]:
    """Per field: its name, whether it has a default, and how its column is read. The field
    types are resolved at run time, so a record's module imports them outside TYPE_CHECKING."""
    hints = typing.get_type_hints(cls)
    return tuple(
        (
            field.name,
            field.default is not dataclasses.MISSING
            or field.default_factory is not dataclasses.MISSING,
            _decoder(hints[field.name]),
        )
        for field in dataclasses.fields(cls)
    )


def record(cls: type[R], row: Row, /, **given: object) -> R:
    """A ``cls`` from ``row``: the ``given`` fields as they are, every other field from the
    column of its name. A field with a default keeps it when the row has no such column."""
    for name, has_default, decode in _columns(cls):
        if name in given:
            continue
        if decode is _given_only:
            raise TypeError(f"{cls.__name__}.{name} is not a column: give it to record()")
        try:
            value = row[name]
        except IndexError:  # no such column
            if has_default:
                continue
            raise
        given[name] = value if decode is None else decode(value)
    make: Callable[..., R] = cls
    return make(**given)
