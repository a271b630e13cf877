"""How the emulator reads Microsoft Graph where real tenants and Microsoft's pages leave room for doubt.

Everything passing against a permissive emulator is a risk: a real tenant may refuse at cutover what the emulator
accepted. So where Graph's behaviour is uncertain (docs/graph-contract.md#observed-behaviour,
docs/graph-contract.md#disagreements) the emulator serves the **strict** reading by default (`emulator serve`,
`make migrate`, the tests) and the looser one behind a switch, and the loader is tested against both
(tests/test_tenant_readings.py).

A `Reading` is one value per switch. `Reading()` is the strict reading, `Reading.lenient()` the looser preset
(`emulator serve --lenient`); each switch is also its own option of `emulator serve` (`--NAME` spelled with
dashes, a boolean one taking `true` or `false`), applied over the preset, and a key of `POST /_emulator/config
{"reading": {...}}` for tests that change it on a running emulator.

How to add a switch
-------------------
1. Add one field to `Reading` below: ``name: type = switch(strict, lenient, models="…", source="…")`` where
   `type` is `bool`, `int`, `float` or a `Literal[...]` of strings; `models` says which documented or observed
   behaviour the strict value models and `source` where it is written (a contract section, an issue).
2. Read it in the rule: `graph.reading.name` in `models.py` (or `routes.py` for wire-format matters).
3. Add its row to README's "The Graph emulator" table (tests/test_tenant_readings.py checks every switch is
   listed) and, where the behaviour is new, to docs/graph-contract.md.
The CLI option, the `--lenient` preset, the operator setting and `EmulatorProcess(reading=...)` follow from the
field alone.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, get_args, get_origin, get_type_hints

from migrator.limits import MAX_INLINE_IMAGE_BYTES

_SWITCH = "reading-switch"


@dataclass(frozen=True)
class SwitchInfo:
    """What a switch's metadata holds besides its strict default."""

    lenient: object
    models: str
    source: str


@dataclass(frozen=True)
class Switch:
    """One switch as the CLI, the operator endpoint and the README see it."""

    name: str
    kind: type  # bool, int, float or str
    choices: tuple[str, ...]  # a Literal's values; empty for the others
    strict: object
    lenient: object
    models: str
    source: str

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")

    def args(self, value: object) -> list[str]:
        """The `emulator serve` arguments that set this switch to `value`."""
        if self.kind is bool:
            return [self.option, "true" if value else "false"]
        return [self.option, str(value)]

    def coerce(self, value: object) -> object:
        """`value` (from JSON or a command line) as this switch's type, or ValueError naming the switch."""
        if self.kind is bool:
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "false"):
                return str(value).lower() == "true"
        elif self.choices:
            if value in self.choices:
                return value
        elif not isinstance(value, bool):
            try:
                return self.kind(value)
            except (TypeError, ValueError):
                pass
        expected = " or ".join(self.choices) if self.choices else self.kind.__name__
        raise ValueError(f"reading switch {self.name!r}: {value!r} is not {expected}")


def switch(strict: Any, lenient: Any, *, models: str, source: str) -> Any:
    """A `Reading` field: its strict default, its lenient value, and what it models where."""
    return field(default=strict, metadata={_SWITCH: SwitchInfo(lenient, models, source)})


@dataclass(frozen=True)
class Reading:
    """One value per switch; the defaults are the strict reading."""

    location: Literal["reference", "article"] = switch(
        "reference",
        "article",
        models="the Location and Content-Location headers of POST /teams: the Graph reference's "
        "/teams('{id}')/operations('{op}') or the import articles' /teams/{id}/operations/{op}",
        source="docs/graph-contract.md#long-running-operations (Graph reference `Create team`; import-2025)",
    )
    migration_mode_on_v1: bool = switch(
        False,
        True,
        models="v1.0 answers (Get channel, Get chat, list channels, a user's chats) carry no migrationMode; beta "
        "answers do",
        source="docs/graph-contract.md#observed-behaviour (msteams-docs 14020, 13988)",
    )
    opaque_message_ids: bool = switch(
        True,
        False,
        models="imported messages get opaque ids; lenient: the epoch milliseconds of their createdDateTime, as "
        "Teams ids often look",
        source="docs/graph-contract.md#observed-behaviour (Graph reference: ids are opaque)",
    )
    varying_time_precision: bool = switch(
        True,
        False,
        models="a message's createdDateTime is answered with varying precision (trailing zeros dropped, as in "
        "`.58Z`, or seven digits), never always three digits; the stored time keeps the millisecond",
        source="docs/graph-contract.md#observed-behaviour (import-2020 and import-2025 example answers)",
    )

    inline_image_max_bytes: int = switch(
        MAX_INLINE_IMAGE_BYTES,
        1_000_000,
        models="the largest inline image (hostedContents, raw bytes) a tenant accepts: real tenants refuse far smaller "
        "ones than Microsoft's pages suggest (about 1 MB with 400, 705 KB of base64 with 403)",
        source="docs/graph-contract.md#inline-images (microsoft-graph-docs-contrib 4454, msteams-docs 13994)",
    )
    inline_image_refusal: Literal["400", "403", "413"] = switch(
        "400",
        "413",
        models="the status an inline image over the cap is refused with: 400 (microsoft-graph-docs-contrib 4454), 403 "
        "(msteams-docs 13994, 14138 'Forbidden/UnknownError'); lenient: 413, the size refusal of the earlier "
        "emulator",
        source="docs/graph-contract.md#observed-behaviour",
    )
    refuse_native_elements: bool = switch(
        False,
        False,
        models="a tenant that refuses every imported @mention and reaction with 400 naming the field (the seed "
        "article's scope); off in both presets, as the newest import article puts both in scope",
        source="docs/graph-contract.md#microsofts-newest-import-article-november-2025-and-what-real-tenants-answer",
    )

    @classmethod
    def lenient(cls) -> Reading:
        values: dict[str, Any] = {s.name: s.lenient for s in switches()}
        return cls(**values)

    def with_changes(self, changes: Mapping[str, object]) -> Reading:
        """This reading with some switches set; ValueError names an unknown switch or a bad value."""
        known = {s.name: s for s in switches()}
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise ValueError(f"unknown reading switch(es) {unknown}; known: {sorted(known)}")
        values: dict[str, Any] = {name: known[name].coerce(value) for name, value in changes.items()}
        return replace(self, **values)

    def as_dict(self) -> dict[str, object]:
        return {s.name: getattr(self, s.name) for s in switches()}

    def cli_args(self) -> list[str]:
        """`emulator serve` options that give this reading (only the switches that differ from strict)."""
        return [arg for s in switches() if getattr(self, s.name) != s.strict for arg in s.args(getattr(self, s.name))]


def switches() -> Iterator[Switch]:
    """Every switch of `Reading`, in declaration order."""
    hints = get_type_hints(Reading)
    for f in fields(Reading):
        info = f.metadata[_SWITCH]
        hint = hints[f.name]
        choices = tuple(str(c) for c in get_args(hint)) if get_origin(hint) is Literal else ()
        kind = str if choices else hint
        yield Switch(f.name, kind, choices, f.default, info.lenient, info.models, info.source)
