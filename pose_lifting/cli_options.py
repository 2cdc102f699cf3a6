"""Command-line options from configuration dataclasses, so that a new config field is a new option with no extra code.

    add_options(parser, DetectorConfig)                 # --imgsz, --batch-size, ... with the fields' comments as help
    config = from_options(args, DetectorConfig)         # back to a DetectorConfig
    to_argv(config, DetectorConfig)                     # ["--imgsz", "640", ...]: the options that rebuild it

A field `name: T = default  # comment` becomes `--name` (underscores as dashes) with the comment as its help, or
`field(metadata={"help": ...})`'s. bool: `--name/--no-name`; `X | None`: an X or nothing; `Literal[...]`: its
values as choices; `tuple[X, ...]`: one or more values, `tuple[X, X]`: exactly two. Nested dataclasses are left to
the caller (add them with their own call). Every front end (app, app.cli, detector, pose_lifting.train) builds its
options here; this module lives in pose_lifting, the package that knows nothing of video, because detector/ and
app/ already import it and it imports neither.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import functools
import inspect
import textwrap
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

KEEP = argparse.SUPPRESS  # `defaults=KEEP`: an option left out keeps the value of from_options' `base`


@functools.cache
def field_comments(config_type: type) -> dict[str, str]:
    """The trailing `# comment` of every field line in the class body (what the field is for)."""
    try:
        source = textwrap.dedent(inspect.getsource(config_type))
    except (OSError, TypeError):
        return {}
    lines = source.splitlines()
    comments = {}
    for node in ast.parse(source).body[0].body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            line = lines[node.end_lineno - 1]
            code_end = len(ast.get_source_segment(source, node).splitlines()[-1])
            offset = line.find("#", code_end if node.lineno == node.end_lineno else 0)
            if offset >= 0:
                comments[node.target.id] = line[offset + 1 :].strip()
            else:  # the comment lines right above the field
                above = []
                for previous in reversed(lines[: node.lineno - 1]):
                    if not previous.strip().startswith("#"):
                        break
                    above.insert(0, previous.strip()[1:].strip())
                if above:
                    comments[node.target.id] = " ".join(above)
    return comments


@dataclasses.dataclass(frozen=True)
class Option:
    """How one field reads from the command line."""

    field: str
    flag: str  # e.g. "--batch-size"
    kind: type  # the value's type: int, float, str or bool
    nargs: str | int | None  # "+" or 2 for tuples
    choices: tuple | None
    optional: bool  # None is a value
    help: str


def _option(config_type: type, field: dataclasses.Field, hint: Any, names: Mapping[str, str]) -> Option | None:
    optional = False
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args:
        optional = True
        (hint,) = [a for a in args if a is not type(None)]
    nargs, choices = None, None
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        nargs = "+" if len(args) == 2 and args[1] is Ellipsis else len(args)
        hint = args[0]
    if typing.get_origin(hint) is typing.Literal:
        choices = typing.get_args(hint)
        hint = type(choices[0])
    if hint not in (int, float, str, bool):
        return None  # a nested dataclass or another type: the caller's
    help_text = field.metadata.get("help") or field_comments(config_type).get(field.name, "")
    flag = "--" + names.get(field.name, field.name).replace("_", "-")
    return Option(field.name, flag, hint, nargs, choices, optional, help_text)


def options(config_type: type, names: Mapping[str, str] | None = None, skip: Iterable[str] = ()) -> list[Option]:
    """The options of a config dataclass's plain fields; `names` renames some (field -> option name)."""
    hints = typing.get_type_hints(config_type)
    found = []
    for field in dataclasses.fields(config_type):
        if field.name in skip or not field.init:
            continue
        option = _option(config_type, field, hints[field.name], names or {})
        if option:
            found.append(option)
    return found


def _default(field: str, config_type: type) -> Any:
    field = config_type.__dataclass_fields__[field]
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


def add_options(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    config_type: type,
    *,
    names: Mapping[str, str] | None = None,
    skip: Iterable[str] = (),
    defaults: Any = None,
    help: Mapping[str, str] | None = None,
) -> list[Option]:
    """Add an option per plain field of `config_type`. `defaults`: an instance whose values are the defaults (the
    class's own by default), or KEEP to leave unset options out of the parsed namespace; `help` overrides texts."""
    added = options(config_type, names, skip)
    for option in added:
        if defaults is KEEP:
            default = KEEP
        else:
            default = getattr(defaults, option.field) if defaults is not None else _default(option.field, config_type)
        text = (help or {}).get(option.field, option.help)
        if default is not KEEP and option.kind is not bool and default is not None:
            shown = " ".join(map(str, default)) if isinstance(default, tuple) else default
            text = f"{text} (default: {shown})" if text else f"default: {shown}"
        kwargs: dict[str, Any] = {"dest": option.field, "default": default, "help": text.replace("%", "%%")}
        if option.kind is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs |= {"type": option.kind, "choices": option.choices, "nargs": option.nargs}
            kwargs["metavar"] = None if option.choices else option.flag[2:].replace("-", "_").upper()
        parser.add_argument(option.flag, **kwargs)
    return added


def from_options(
    args: argparse.Namespace, config_type: type, base: Any = None, skip: Iterable[str] = (), **values: Any
) -> Any:
    """A `config_type` from parsed options (the fields that `add_options` added and that were given), then `values`;
    fields without either keep `base`'s values (or the class defaults)."""
    given = {
        option.field: getattr(args, option.field)
        for option in options(config_type, skip=skip)
        if hasattr(args, option.field)
    }
    given = {k: tuple(v) if isinstance(v, list) else v for k, v in given.items()} | values
    if base is None:
        return config_type(**given)
    return dataclasses.replace(base, **given)


def to_argv(
    config: Any, config_type: type | None = None, *, names: Mapping[str, str] | None = None, skip: Iterable[str] = ()
) -> list[str]:
    """The options that `from_options` turns back into `config`'s plain fields (an instance, or its `asdict`);
    None values and empty tuples (the fields' default) are left out."""
    config_type = config_type or type(config)
    values = config if isinstance(config, Mapping) else dataclasses.asdict(config)
    argv: list[str] = []
    for option in options(config_type, names, skip):
        value = values.get(option.field)
        if value is None or (option.nargs == "+" and not value):
            continue
        if option.kind is bool:
            argv.append(option.flag if value else "--no-" + option.flag[2:])
        elif option.nargs:
            argv += [option.flag, *map(_text, value)]
        else:
            argv += [option.flag, _text(value)]
    return argv


def _text(value: Any) -> str:
    return str(value)
