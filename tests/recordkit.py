"""Checks that a JSON value written by a stage is exactly the TypedDict that defines it: the same keys, in the
declared order, with values of the declared types, all the way down."""

from __future__ import annotations

import types
from typing import Any, NotRequired, Union, get_args, get_origin, get_type_hints, is_typeddict


def assert_record(value: Any, annotation: Any, where: str = "$") -> None:
    """Fail naming the path (`$.channels[0].first`) of the first value that does not match `annotation`."""
    origin = get_origin(annotation)
    if is_typeddict(annotation):
        _assert_typeddict(value, annotation, where)
    elif origin in (Union, types.UnionType):
        options = get_args(annotation)
        if value is None and type(None) in options:
            return
        errors = []
        for option in (o for o in options if o is not type(None)):
            try:
                assert_record(value, option, where)
                return
            except AssertionError as error:
                errors.append(str(error))
        raise AssertionError(f"{where}: {value!r} is none of {annotation}: {'; '.join(errors)}")
    elif origin is list:
        assert isinstance(value, list), f"{where}: {value!r} is not a list"
        for index, item in enumerate(value):
            assert_record(item, get_args(annotation)[0], f"{where}[{index}]")
    elif origin is dict:
        assert isinstance(value, dict), f"{where}: {value!r} is not an object"
        key_type, value_type = get_args(annotation)
        for key, item in value.items():
            assert_record(key, key_type, f"{where} key {key!r}")
            assert_record(item, value_type, f"{where}.{key}")
    elif annotation is Any:
        return
    elif annotation is float:
        assert isinstance(value, int | float) and not isinstance(value, bool), f"{where}: {value!r} is not a number"
    elif annotation is int:
        assert isinstance(value, int) and not isinstance(value, bool), f"{where}: {value!r} is not an integer"
    else:
        assert isinstance(value, annotation), f"{where}: {value!r} is not {annotation.__name__}"


def _assert_typeddict(value: Any, record: Any, where: str) -> None:
    assert isinstance(value, dict), f"{where}: {value!r} is not an object ({record.__name__})"
    fields = get_type_hints(record, include_extras=True)
    optional = {name for name, hint in fields.items() if get_origin(hint) is NotRequired}
    declared = [name for name in fields if name in value or name not in optional]
    assert list(value) == declared, f"{where}: keys {list(value)} are not {record.__name__}'s {declared}"
    for name, hint in fields.items():
        if name in value:
            assert_record(value[name], get_args(hint)[0] if name in optional else hint, f"{where}.{name}")
