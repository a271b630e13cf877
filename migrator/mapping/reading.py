"""Reading the mapping files back, every item with its line, and every shape problem placed in the file."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from migrator.capacity import TEAMS_DEFAULTS, CapacityLimits, limit_problems
from migrator.limits import MAX_INLINE_IMAGE_BYTES
from migrator.mapping.document import line_of, load_document
from migrator.mapping.existing_keys import EXISTING_KEYS, existing_problems
from migrator.mapping.model import (
    ALL_MEMBERS,
    EXISTING,
    MIGRATION_FILE,
    NATIVE_FORMS,
    OLD_USER_COLUMNS,
    ROUTE_ACTIONS,
    SYSTEM_MESSAGE_ACTIONS,
    TARGETS,
    USER_COLUMNS,
    USERS_FILE,
    MappingError,
    MappingFiles,
    Mappings,
    Problem,
    Route,
    Team,
    UserMapping,
)

_TOP_KEYS = {"version", "source", "users", "system_messages", "defaults", "workspaces", "teams", "conversations"}
_FORM_KEYS = {"mentions", "reactions"}
_DEFAULTS_KEYS = {"limits", "inline_image_max_bytes", "mentions", "reactions"}
_USERS_KEYS = {"file", "fallback", "fallback_id"}
_TEAM_KEYS = {"name", "description", "members"}
_ROUTE_KEYS = {"source", "name", "action", "target", "team", "channel", "merge"} | set(EXISTING_KEYS)


def _type_name(value: object) -> str:
    """What a consultant wrote instead of text, in YAML's words rather than the parser's class names."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "true or false" if isinstance(value, bool) else type(value).__name__


class _Reader:
    """Turns the YAML tree into `Mappings`, collecting every shape problem with its line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.path.as_posix(), line, message))

    def unknown_keys(self, node: CommentedMap, allowed: set[str], where: str) -> None:
        for key in node:
            if key not in allowed:
                self.problem(
                    line_of(node, key), f"unknown key {key!r} in {where} (allowed: {', '.join(sorted(allowed))})"
                )

    def text(self, node: CommentedMap, key: str, where: str, *, required: bool) -> str | None:
        value = node.get(key)
        if value is None:
            if required:
                self.problem(line_of(node), f"{where} has no {key!r}")
            return None
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.problem(line_of(node, key), f"{where}: {key!r} must be text, not {_type_name(value)}")
            return None
        return str(value)

    def read(self, data: Any) -> Mappings:
        if not isinstance(data, CommentedMap):
            raise MappingError(f"{self.path}: expected a YAML mapping with version, teams and conversations")
        self.unknown_keys(data, _TOP_KEYS, "the top level")
        if data.get("version") != 1:
            self.problem(line_of(data, "version"), "version must be 1")
        users = data.get("users") if isinstance(data.get("users"), CommentedMap) else CommentedMap()
        self.unknown_keys(users, _USERS_KEYS, "users")
        source = self.text(data, "source", "the top level", required=False)
        users_file = self.text(users, "file", "users", required=False) or USERS_FILE
        fallback = self.text(users, "fallback", "users", required=False)
        fallback_id = self.text(users, "fallback_id", "users", required=False)
        system_messages = self.text(data, "system_messages", "the top level", required=False) or "keep"
        if system_messages not in SYSTEM_MESSAGE_ACTIONS:
            self.problem(
                line_of(data, "system_messages"),
                f"system_messages {system_messages!r} is not one of {', '.join(SYSTEM_MESSAGE_ACTIONS)}",
            )
        defaults = self.defaults(data.get("defaults"), line_of(data, "defaults"))
        limits, limit_lines = self.limits(defaults)
        return Mappings(
            path=self.path,
            source=source,
            users_file=users_file,
            fallback=fallback,
            fallback_id=fallback_id,
            system_messages=system_messages,
            inline_image_max_bytes=self.inline_image_cap(defaults),
            mentions=self.native_form(defaults, "mentions", "defaults"),
            reactions=self.native_form(defaults, "reactions", "defaults"),
            workspace_forms=self.workspace_forms(data.get("workspaces"), line_of(data, "workspaces")),
            teams=self.teams(data.get("teams"), line_of(data, "teams")),
            routes=tuple(self.routes(data.get("conversations"), line_of(data, "conversations"))),
            lines={str(key): line_of(data, key) or 0 for key in data},
            limits=limits,
            limit_lines=limit_lines,
        )

    def defaults(self, node: Any, line: int | None) -> CommentedMap:
        """`defaults:` (limits, inline_image_max_bytes), checked once; empty when absent or not a mapping."""
        if node is None:
            return CommentedMap()
        if not isinstance(node, CommentedMap):
            self.problem(line, "defaults must be a mapping (with `limits:` and `inline_image_max_bytes:`)")
            return CommentedMap()
        self.unknown_keys(node, _DEFAULTS_KEYS, "defaults")
        return node

    def limits(self, node: CommentedMap) -> tuple[CapacityLimits, dict[str, int]]:
        """Teams' capacity limits with the tenant's overrides (`defaults.limits`), and the line of each override."""
        given = node.get("limits")
        if given is None:
            return TEAMS_DEFAULTS, {}
        if not isinstance(given, CommentedMap):
            self.problem(line_of(node, "limits"), "defaults.limits must be a mapping of limit names to numbers")
            return TEAMS_DEFAULTS, {}
        values: dict[str, int] = {}
        for name, value in given.items():
            problem = limit_problems(name, value)
            if problem:
                self.problem(line_of(given, name), f"defaults.limits: {problem}")
            elif isinstance(value, int):
                values[str(name)] = value
        return TEAMS_DEFAULTS.overridden(values), {name: line_of(given, name) or 0 for name in values}

    def inline_image_cap(self, node: CommentedMap) -> int:
        """`defaults.inline_image_max_bytes`: a positive whole number of raw bytes, or the default."""
        value = node.get("inline_image_max_bytes", MAX_INLINE_IMAGE_BYTES)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            self.problem(
                line_of(node, "inline_image_max_bytes"),
                f"defaults: inline_image_max_bytes must be a positive number of bytes, not {value!r}",
            )
            return MAX_INLINE_IMAGE_BYTES
        return value

    def native_form(self, node: CommentedMap, name: str, where: str) -> str:
        """`mentions` / `reactions` of `defaults` or of a workspace: `native` (real Graph elements, the default) or
        `text`."""
        value = node.get(name, NATIVE_FORMS[0])
        if value not in NATIVE_FORMS:
            allowed = ", ".join(NATIVE_FORMS)
            self.problem(line_of(node, name), f"{where}: {name} must be one of {allowed}, not {value!r}")
            return NATIVE_FORMS[0]
        return str(value)

    def workspace_forms(self, node: Any, line: int | None) -> dict[str, dict[str, str]]:
        """`workspaces:`: per workspace (its id or name, as `analyse` lists them) the `mentions` / `reactions` that
        override `defaults` for its conversations."""
        if node is None:
            return {}
        if not isinstance(node, CommentedMap):
            self.problem(line, "workspaces must be a mapping of workspace ids or names to `mentions:` / `reactions:`")
            return {}
        forms: dict[str, dict[str, str]] = {}
        for key, given in node.items():
            where = f"workspaces.{key}"
            if not isinstance(given, CommentedMap):
                self.problem(line_of(node, key), f"{where} must be a mapping with `mentions:` and/or `reactions:`")
                continue
            self.unknown_keys(given, _FORM_KEYS, where)
            forms[str(key)] = {
                name: self.native_form(given, name, where) for name in sorted(_FORM_KEYS) if name in given
            }
        return forms

    def teams(self, node: Any, line: int | None) -> dict[str, Team]:
        if not isinstance(node, CommentedMap):
            self.problem(line, "teams must be a mapping of team keys to {name, description, members}")
            return {}
        teams = {}
        for key, entry in node.items():
            where = f"team {key!r}"
            if not isinstance(entry, CommentedMap):
                self.problem(line_of(node, key), f"{where} must be a mapping with name, description, members")
                continue
            self.unknown_keys(entry, _TEAM_KEYS, where)
            members = entry.get("members", ALL_MEMBERS)
            if members != ALL_MEMBERS and not (isinstance(members, list) and all(isinstance(m, str) for m in members)):
                self.problem(line_of(entry, "members"), f"{where}: members must be 'all' or a list of source user ids")
                members = []
            teams[str(key)] = Team(
                key=str(key),
                name=self.text(entry, "name", where, required=True) or "",
                description=self.text(entry, "description", where, required=False) or "",
                members=None if members == ALL_MEMBERS else tuple(str(m) for m in members),
                line=line_of(node, key),
            )
        return teams

    def routes(self, node: Any, line: int | None) -> list[Route]:
        if not isinstance(node, list):
            self.problem(line, "conversations must be a list of entries with source, team, channel")
            return []
        routes = []
        for index, entry in enumerate(node):
            if not isinstance(entry, CommentedMap):
                self.problem(line, f"conversations[{index}] must be a mapping with source, team, channel")
                continue
            source = self.text(entry, "source", f"conversations[{index}]", required=True)
            where = f"conversation {source or index}"
            self.unknown_keys(entry, _ROUTE_KEYS, where)
            action = self.text(entry, "action", where, required=False) or "migrate"
            if action not in ROUTE_ACTIONS:
                self.problem(
                    line_of(entry, "action"), f"{where}: action {action!r} is not one of {', '.join(ROUTE_ACTIONS)}"
                )
            merge = entry.get("merge", False)
            if not isinstance(merge, bool):
                self.problem(line_of(entry, "merge"), f"{where}: merge must be true or false")
            target = self.text(entry, "target", where, required=False)
            if target is not None and target not in TARGETS:
                self.problem(line_of(entry, "target"), f"{where}: target {target!r} is not one of {', '.join(TARGETS)}")
                target = None
            existing = {key: self.text(entry, key, where, required=False) for key in EXISTING_KEYS}
            for key, message in existing_problems(action == EXISTING, entry, existing):
                self.problem(line_of(entry, key), f"{where}: {message}")
            routes.append(
                Route(
                    source=source or "",
                    action=action,
                    team=self.text(entry, "team", where, required=False),  # whether it needs them depends on its target
                    channel=self.text(entry, "channel", where, required=False),
                    merge=merge is True,
                    name=self.text(entry, "name", where, required=False) or "",
                    line=line_of(entry),
                    kind=target,
                    existing_team=existing["existing_team"],
                    existing_channel=existing["existing_channel"],
                    existing_chat=existing["existing_chat"],
                )
            )
        return routes


def load_mappings(path: Path) -> tuple[Mappings, list[Problem]]:
    """Read migration.yaml (or a folder holding it), with the shape problems found on the way. A path that does not
    exist is a folder unless it names a YAML file, so the error's hint drafts into the folder that was given."""
    if path.is_dir() or (not path.exists() and path.suffix.lower() not in {".yaml", ".yml"}):
        path = path / MIGRATION_FILE
    data, problems = load_document(path)
    if problems:
        return Mappings(path=path, source=None), problems
    reader = _Reader(path)
    return reader.read(data), reader.problems


def _user_columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Where each column is, reading a header written before other sources were supported (slack_id,
    slack_name) as the columns those names became; and which old names it used."""
    index = {name: number for number, name in reversed(list(enumerate(header)))}  # the first of a repeated name
    old = [name for name, new in OLD_USER_COLUMNS.items() if new not in index and name in index]
    for name in old:
        index[OLD_USER_COLUMNS[name]] = index[name]
    return index, old


def _load_users(path: Path) -> tuple[list[UserMapping], list[Problem], list[Problem]]:
    """users.csv's rows (every one keeps its line for the checks), its shape problems, and a note when
    its header uses the old column names."""
    where = path.as_posix()
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError as exc:
        raise MappingError(f"{path}: not found; draft it with `migrator map SOURCE --out {path.parent}`") from exc
    with handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        index, old = _user_columns(header)
        missing = [c for c in USER_COLUMNS if c not in index]
        if missing:
            message = f"header must name the columns {','.join(USER_COLUMNS)}; missing {', '.join(missing)}"
            return [], [Problem(where, 1, message)], []
        notes = []
        if old:
            renames = ", ".join(f"{name} to {OLD_USER_COLUMNS[name]}" for name in old)
            notes.append(
                Problem(
                    where,
                    1,
                    f"note: the header uses the old column {'names' if len(old) > 1 else 'name'} {', '.join(old)}, "
                    f"read as {', '.join(OLD_USER_COLUMNS[n] for n in old)} for every source; rename {renames} "
                    "in this line to stop this note",
                )
            )
        rows, problems = [], []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                problems.append(
                    Problem(where, reader.line_num, f"has {len(values)} fields, the header has {len(header)}")
                )
                continue
            rows.append(UserMapping(**{c: values[index[c]].strip() for c in USER_COLUMNS}, line=reader.line_num))
    return rows, problems, notes


def load_all(path: Path) -> MappingFiles:
    """migration.yaml (or its folder) and the users.csv it names, with their shape problems and notes."""
    mappings, problems = load_mappings(path)
    if not mappings.lines:  # migration.yaml is not valid YAML: nothing further can be placed
        return MappingFiles(mappings, [], problems, [])
    rows, user_problems, notes = _load_users(mappings.users_path)
    return MappingFiles(mappings, rows, problems + user_problems, notes)
