"""Options from config dataclasses (pose_lifting.cli_options) and the command lines built on them."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, field
from typing import Literal

import pytest

from pose_lifting import export, train
from pose_lifting.cli_options import KEEP, add_options, field_comments, from_options, to_argv


@dataclass
class Example:
    """A config with one field of every kind the helper reads."""

    size: int = 640  # pixels on the longest side
    rate: float = 0.5
    name: str = "yolo"
    # a comment above the field is its help too
    limit: int | None = None
    mode: Literal["fast", "slow"] = "fast"  # how hard to try
    verbose: bool = False  # say more
    flip: bool = True  # mirror too
    cameras: tuple[str, ...] = ("h36m",)
    span: tuple[float, float] = (0.5, 2.0)
    labelled: str = field(default="x", metadata={"help": "from the metadata"})
    nested: dict = field(default_factory=dict)  # not a plain field: left to the caller


def parser_for(**kwargs) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_options(parser, Example, **kwargs)
    return parser


def test_every_plain_field_is_an_option_with_its_comment_as_help() -> None:
    text = parser_for().format_help()
    for flag in ("--size", "--rate", "--name", "--limit", "--mode", "--verbose", "--no-flip", "--cameras", "--span"):
        assert flag in text
    assert "--nested" not in text
    assert "pixels on the longest side (default: 640)" in text and "how hard to try" in text
    assert "a comment above the field is its help too" in text and "from the metadata" in text
    assert field_comments(Example)["verbose"] == "say more"


def test_options_parse_back_into_the_dataclass() -> None:
    assert from_options(parser_for().parse_args([]), Example) == Example()
    argv = "--size 320 --limit 7 --mode slow --verbose --no-flip --cameras h36m phone --span 1 3"
    args = parser_for().parse_args(argv.split(" "))
    config = from_options(args, Example, name="given")
    assert config == Example(320, 0.5, "given", 7, "slow", True, False, ("h36m", "phone"), (1.0, 3.0))
    with pytest.raises(SystemExit):
        parser_for().parse_args(["--mode", "medium"])  # Literal values are the choices
    with pytest.raises(SystemExit):
        parser_for().parse_args(["--span", "1"])  # a pair needs two values


def test_renamed_skipped_and_kept_options() -> None:
    parser = parser_for(names={"size": "imgsz"}, skip=("rate",), defaults=KEEP)
    args = parser.parse_args(["--imgsz", "100"])
    assert not hasattr(args, "rate") and not hasattr(args, "name")  # KEEP: unset options stay out of the namespace
    base = Example(name="preset", rate=0.25)
    assert from_options(args, Example, base=base) == Example(size=100, rate=0.25, name="preset")


def test_to_argv_round_trips() -> None:
    config = Example(320, 0.25, "n", 3, "slow", True, False, ("a", "b"), (1.0, 2.0), "y")
    argv = to_argv(config)
    assert "--no-flip" in argv and "--verbose" in argv and "--limit" in argv
    assert from_options(parser_for().parse_args(argv), Example) == config
    assert "--limit" not in to_argv(Example())  # None is left out


def test_a_training_command_rebuilds_the_run_that_wrote_it() -> None:
    argv = "--model plain --epochs 3 --stride 9 --embed-dim 8 --lr 0.0005"
    config = train.parse_args(argv.split(" "))
    as_stored = json.loads(json.dumps(asdict(config)))  # as a checkpoint stores it
    command = export.training_command(as_stored)
    assert command.startswith("python -m pose_lifting.train --model plain --out runs/plain")
    rebuilt = train.parse_args(command.split()[3:])
    assert rebuilt.architecture == config.architecture and rebuilt.inputs == config.inputs
    assert (rebuilt.epochs, rebuilt.lr, rebuilt.epoch_size, rebuilt.data) == (3, 0.0005, 100_000, config.data)


def test_the_front_ends_take_the_same_device_words() -> None:
    from app import cli
    from detector.__main__ import OPTION_NAMES

    assert OPTION_NAMES  # the detector's own renames
    args = cli.parse_args(["clip.mp4", "--device", "cpu", "--no-flip", "--max-duration", "0", "--azimuth", "10"])
    config = cli.config_from_options(args, ("student",))
    assert (config.device, config.flip_test, config.max_duration_s, config.view.azimuth_deg) == ("cpu", False, None, 10)
    with pytest.raises(SystemExit):
        cli.parse_args(["clip.mp4", "--device", "cuda:1"])
    with pytest.raises(SystemExit):
        train.parse_args(["--device", "gpu"])
