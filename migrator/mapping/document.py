"""migration.yaml as a round-trip YAML document (ruamel.yaml), the one place that parses and prints it.

A consultant edits the drafted file and comments it; ruamel.yaml keeps those comments, the key
order and the quoting when a document is loaded and dumped again, and it remembers the line of
every key and item, so reading can place each problem and a later `map --update` can add entries
to the file without losing anyone's edits. Reading refuses, with the line, what no mapping may
hold: a key given twice, a key that is not a plain value, and half a character.

The document is YAML 1.2 (ruamel.yaml's default): `yes`, `no`, `on` and `off` are text, only
`true` and `false` are booleans.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.representer import RoundTripRepresenter

from migrator.mapping.model import MappingError, Problem
from migrator.sources.common import LONE_SURROGATE

SURROGATE_PROBLEM = "half a character (a lone UTF-16 surrogate escape such as \\ud83d): write the whole character"


class _Constructor(RoundTripConstructor):
    """ruamel.yaml's round-trip constructor, with the refusals a mapping file needs placed on their line."""

    def check_mapping_key(self, node: Any, key_node: Any, mapping: Any, key: Any, value: Any) -> bool:
        """A key must be a plain value, given once; ruamel.yaml's own duplicate message does not say where
        the first one is."""
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise ConstructorError(None, None, "a key must be a plain value", key_node.start_mark)
        if key in mapping:
            first = mapping.lc.key(key)[0] + 1
            raise ConstructorError(
                None, None, f"key {key!r} appears twice (first on line {first})", key_node.start_mark
            )
        return True

    def construct_yaml_str(self, node: Any) -> Any:
        """A string, refused with its line when it escapes half a character ("\\ud83d"): no plan or Teams name
        could hold it."""
        value = super().construct_yaml_str(node)
        if LONE_SURROGATE.search(value):
            raise ConstructorError(None, None, SURROGATE_PROBLEM, node.start_mark)
        return value


_Constructor.add_constructor("tag:yaml.org,2002:str", _Constructor.construct_yaml_str)


def _represent_none(representer: RoundTripRepresenter, _: None) -> Any:
    """`null` written out, as a consultant expects to see it, rather than an empty value."""
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def _yaml() -> YAML:
    """A configured parser and printer; one per call, since a ruamel.yaml instance keeps state while it works."""
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    yaml.preserve_quotes = True  # a consultant's quoting survives a round trip, so a rewrite changes only what it must
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # a long name or description stays on its line
    yaml.representer.add_representer(type(None), _represent_none)
    return yaml


def load_document(path: Path) -> tuple[Any, list[Problem]]:
    """The parsed file (a CommentedMap when it is a mapping, as it should be), or None and the one problem
    that stopped the parser, placed on its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise MappingError(f"{path}: not found; draft it with `migrator map SOURCE --out {path.parent}`") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: cannot be read ({exc})") from exc
    try:
        return _yaml().load(text), []
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = f"not valid YAML: {exc.problem or exc.context}"
        if exc.context and exc.context_mark and exc.problem:  # where the unfinished construct began
            message += f" ({exc.context} on line {exc.context_mark.line + 1})"
        return None, [Problem(path.as_posix(), line, message)]


def dump_document(document: CommentedMap, path: Path) -> None:
    """Write a document (drafted, or loaded and changed) with its comments."""
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        _yaml().dump(document, handle)


def line_of(node: object, key: object = None) -> int | None:
    """The 1-based line of a key of a mapping (of the mapping itself without a key, or when the key is absent);
    None for anything that was not read from a file."""
    if not isinstance(node, CommentedMap) or node.lc.line is None:
        return None
    if key is not None and key in node:
        return int(node.lc.key(key)[0]) + 1
    return int(node.lc.line) + 1
