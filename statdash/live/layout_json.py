"""A `CompiledLayout` to JSON and back, so a recording replays without its layout file.

The compiled layout is stored rather than the layout's source text because the source alone
does not compile: it names object lists in other files (`data/floor-agents.txt`), which may
be gone or changed by the time someone replays. The compiled form holds every row, column
and statisticId already resolved.

The codec is driven by the dataclasses' own type hints, so a new field or view kind in
`statdash.layout.compile` needs no change here. Decoding builds only the types reachable from
`CompiledLayout`'s hints (never a class named by the file), so a hostile file can at worst be
refused with a `LayoutJsonError`.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ValidationError

from statdash.layout.compile import CompiledLayout

_TYPE_KEY = "@"


class LayoutJsonError(ValueError):
    """The stored layout cannot be read back (damaged, or written by other code)."""


def layout_to_json(layout: CompiledLayout) -> str:
    """The compiled layout as compact JSON text."""
    return json.dumps(_encode(layout), separators=(",", ":"), ensure_ascii=False)


def layout_from_json(text: str) -> CompiledLayout:
    """The compiled layout stored by `layout_to_json`; LayoutJsonError when it cannot be."""
    try:
        data = json.loads(text)
        layout = _decode(data, CompiledLayout, "layout")
    except LayoutJsonError:
        raise
    except (ValueError, TypeError, KeyError, RecursionError, ValidationError) as error:
        raise LayoutJsonError(f"the stored layout is damaged ({type(error).__name__})") from None
    if not isinstance(layout, CompiledLayout):
        raise LayoutJsonError("the stored layout is not a compiled layout")
    return layout


def _encode(value: object) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        encoded: dict[str, Any] = {_TYPE_KEY: type(value).__name__}
        for item in dataclasses.fields(value):
            if item.init:
                encoded[item.name] = _encode(getattr(value, item.name))
        return encoded
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, enum.Enum):
        return _encode(value.value)
    if isinstance(value, Mapping):
        # Keys may be tuples (a table's cells), so a mapping is a list of pairs.
        return [[_encode(key), _encode(item)] for key, item in value.items()]
    if isinstance(value, (tuple, list)):
        return [_encode(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in a recording's layout")


def _decode(data: Any, hint: Any, where: str) -> Any:
    origin = get_origin(hint)
    if hint is Any:
        return data
    if origin in (Union, types.UnionType):
        return _decode_union(data, get_args(hint), where)
    if origin is Literal:
        if data not in get_args(hint):
            raise LayoutJsonError(f"{where}: {data!r} is not one of {get_args(hint)}")
        return data
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _decode_dataclass(data, hint, where)
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        return hint.model_validate(data)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(data if not isinstance(data, list) else tuple(data))
    if origin is tuple:
        return _decode_tuple(data, get_args(hint), where)
    if origin in (Mapping, dict, typing.Mapping):
        key_hint, value_hint = get_args(hint)
        pairs = _expect(data, list, where)
        return MappingProxyType(
            {
                _decode(_pair(pair, where)[0], key_hint, where): _decode(
                    _pair(pair, where)[1], value_hint, where
                )
                for pair in pairs
            }
        )
    if hint is float:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            raise LayoutJsonError(f"{where}: expected a number")
        return float(data)
    if hint in (str, int, bool):
        if type(data) is not hint:
            raise LayoutJsonError(f"{where}: expected {hint.__name__}")
        return data
    if hint is type(None):
        if data is not None:
            raise LayoutJsonError(f"{where}: expected null")
        return None
    raise LayoutJsonError(f"{where}: no reader for {hint!r}")


def _decode_union(data: Any, options: tuple[Any, ...], where: str) -> Any:
    if data is None and type(None) in options:
        return None
    if isinstance(data, dict) and _TYPE_KEY in data:
        for option in options:
            if isinstance(option, type) and option.__name__ == data[_TYPE_KEY]:
                return _decode(data, option, where)
    for option in options:
        if option is type(None):
            continue
        try:
            return _decode(data, option, where)
        except (LayoutJsonError, ValueError, TypeError):
            continue
    raise LayoutJsonError(f"{where}: matches none of {options}")


def _decode_dataclass(data: Any, cls: type[Any], where: str) -> Any:
    fields = _expect(data, dict, where)
    if fields.get(_TYPE_KEY) != cls.__name__:
        raise LayoutJsonError(f"{where}: expected a {cls.__name__}")
    hints = _hints(cls)
    arguments = {
        item.name: _decode(fields[item.name], hints[item.name], f"{where}.{item.name}")
        for item in dataclasses.fields(cls)
        if item.init and item.name in fields
    }
    return cls(**arguments)


def _decode_tuple(data: Any, arguments: tuple[Any, ...], where: str) -> tuple[Any, ...]:
    items = _expect(data, list, where)
    if len(arguments) == 2 and arguments[1] is Ellipsis:
        return tuple(_decode(item, arguments[0], f"{where}[]") for item in items)
    if len(items) != len(arguments):
        raise LayoutJsonError(f"{where}: expected {len(arguments)} items")
    return tuple(_decode(item, hint, where) for item, hint in zip(items, arguments, strict=True))


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    """The resolved field types of a dataclass (annotations are strings under PEP 563)."""
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)
    return _HINTS[cls]


def _expect(data: Any, kind: type[Any], where: str) -> Any:
    if not isinstance(data, kind):
        raise LayoutJsonError(f"{where}: expected a {kind.__name__}")
    return data


def _pair(data: Any, where: str) -> list[Any]:
    pair = _expect(data, list, where)
    if len(pair) != 2:
        raise LayoutJsonError(f"{where}: expected a [key, value] pair")
    return typing.cast(list[Any], pair)
