"""app.batch: a local Ray instance with two workers on three short inputs, one of them bad; the outputs are
app.cli's, byte for byte; a rerun skips what is done; Ray leaves no process behind."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest
import torch

from app import batch, cli
from tests.test_app import checkpoints, keypoints_file, short_clip  # noqa: F401  (fixtures)


def raylet_pids() -> set[int]:
    pids = set()
    for status in Path("/proc").glob("[0-9]*/comm"):
        try:
            if status.read_text().strip() in ("raylet", "gcs_server"):
                pids.add(int(status.parent.name))
        except OSError:
            continue
    return pids


def summary_rows(out: Path) -> dict[str, dict]:
    with (out / "summary.csv").open() as handle:
        return {Path(row["input"]).name: row for row in csv.DictReader(handle)}


def cli_outputs(inputs: list[Path], out: Path, checkpoint: Path, threads: int) -> None:
    """app.cli on the same inputs with the workers' PyTorch thread count: YOLO's floating-point sums, and so the
    tracked crops, depend on it (docs/batch.md), not on the process that runs them."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        assert cli.main([*map(str, inputs), "--out", str(out), "--checkpoint", str(checkpoint)]) == 0
    finally:
        torch.set_num_threads(before)


@pytest.mark.slow
def test_two_workers_write_the_clis_outputs_record_the_bad_input_and_skip_on_rerun(
    short_clip, checkpoints, tmp_path, capsys  # noqa: F811
):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    clip = inputs / short_clip.name
    clip.write_bytes(short_clip.read_bytes())
    walk = keypoints_file(inputs / "walk.npz", frames=40)
    (inputs / "broken.mp4").write_text("this is a text file, not a video")
    out, student = tmp_path / "batch", checkpoints["student"]
    argv = [str(inputs), "--out", str(out), "--checkpoint", str(student), "--workers", "2"]
    rays = raylet_pids()

    started = time.perf_counter()
    assert batch.main(argv) == 1  # one input failed
    first_s = time.perf_counter() - started
    rows = summary_rows(out)
    assert {name: row["status"] for name, row in rows.items()} == {
        clip.name: "done", "walk.npz": "done", "broken.mp4": "failed"}
    assert "not a video file" in rows["broken.mp4"]["error"] and "\n" not in rows["broken.mp4"]["error"]
    assert int(rows[clip.name]["frames"]) == 40 and int(rows[clip.name]["people"]) == 1
    assert float(rows["walk.npz"]["fps"]) > 0
    assert float(rows["walk.npz"]["duration_s"]) == pytest.approx(40 / 30, abs=1e-3)
    assert "1 threads" in rows["walk.npz"]["worker"]
    assert not (out / "broken").exists() and not (out / batch.PARTIAL).exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["workers"] == 2 and summary["threads"] == 1 and len(summary["inputs"]) == 3

    expected = tmp_path / "cli"
    cli_outputs([clip, walk], expected, student, threads=1)
    for stem in (clip.stem, "walk"):
        made = sorted(p.name for p in (out / stem).iterdir())
        assert made == sorted([p.name for p in expected.glob(f"{stem}*")] + [batch.RECORD])
        for name in (f"{stem}_3d.csv", f"{stem}_3d_world.csv", f"{stem}.bvh"):
            assert (out / stem / name).read_bytes() == (expected / name).read_bytes(), name

    written = (out / "walk" / "walk_3d.csv").stat().st_mtime_ns
    assert batch.main(argv) == 1  # the bad input is tried again, and fails again
    rows = summary_rows(out)
    assert [rows[name]["status"] for name in (clip.name, "walk.npz", "broken.mp4")] == ["skipped", "skipped", "failed"]
    assert int(rows[clip.name]["frames"]) == 40  # from the first run's record
    assert (out / "walk" / "walk_3d.csv").stat().st_mtime_ns == written

    assert batch.main([str(walk), "--out", str(out), "--checkpoint", str(student), "--workers", "1", "--force"]) == 0
    assert summary_rows(out)["walk.npz"]["status"] == "done"
    assert (out / "walk" / "walk_3d.csv").read_bytes() == (expected / "walk_3d.csv").read_bytes()

    for _ in range(50):  # ray.shutdown() stops the local instance's processes; give them a moment to exit
        if not raylet_pids() - rays:
            break
        time.sleep(0.2)
    assert not raylet_pids() - rays, "Ray processes left running"
    assert "1 failed" in capsys.readouterr().out
    print(f"first run {first_s:.1f} s")


def test_a_missing_lifter_fails_before_ray_starts(tmp_path, capsys):
    walk = keypoints_file(tmp_path / "walk.npz")
    assert batch.main([str(walk), "--out", str(tmp_path / "o"), "--checkpoint", str(tmp_path / "none.pt")]) == 1
    assert "error:" in capsys.readouterr().err


def test_inputs_expand_from_folders_and_globs_each_once(tmp_path):
    (tmp_path / "season" / "week2").mkdir(parents=True)
    for name in ("season/a.mp4", "season/notes.txt", "season/week2/b.MOV", "season/week2/c.npz", "loose.avi"):
        (tmp_path / name).write_bytes(b"")
    openpose = tmp_path / "season" / "op"
    openpose.mkdir()
    (openpose / "op_000000000000_keypoints.json").write_text("{}")
    out = tmp_path / "season" / "out"
    out.mkdir()
    (out / "old.mp4").write_bytes(b"")
    found = cli.expand_inputs([tmp_path / "season", Path(str(tmp_path / "*.avi")), tmp_path / "season" / "a.mp4",
                               tmp_path / "missing.mp4"], exclude=out)
    relative = [str(p.relative_to(tmp_path)) for p in found]
    assert relative == ["season/a.mp4", "season/op", "season/week2/b.MOV", "season/week2/c.npz", "loose.avi",
                        "missing.mp4"]


def test_output_folders_and_the_worker_plan():
    names = batch.output_names([Path("a/clip.mp4"), Path("b/clip.mp4"), Path("c/Clip.avi"), Path("d/other.npz")])
    assert names == ["clip", "clip_2", "Clip_3", "other"]
    assert batch.plan_workers(2, 0, [2], None, None, 16.0, True) == (2, 1)  # one per core
    assert batch.plan_workers(2, 0, [2], 1, None, 16.0, True) == (1, 2)  # one worker takes every core
    assert batch.plan_workers(16, 0, [16], None, None, 7.0, True) == (3, 5)  # the memory allows three
    assert batch.plan_workers(32, 4, [16, 16], None, None, 64.0, True) == (4, 8)  # one per GPU
    assert batch.plan_workers(32, 0, [16, 16], 8, None, 64.0, True) == (8, 4)  # spread over two machines
    assert batch.plan_workers(32, 0, [16, 16], None, None, float("inf"), True) == (32, 1)  # a cluster: no memory cap
