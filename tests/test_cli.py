"""What the command lines print and leave behind: failures, progress in a log, the app's launch banner."""

from __future__ import annotations

import io
from types import SimpleNamespace

import app.__main__ as app_main
from app import cli
from detector import TerminalProgress


def test_a_run_where_every_input_fails_prints_no_coordinates_and_leaves_no_folder(tmp_path, capsys) -> None:
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    out = tmp_path / "new_out"
    assert cli.main([str(bad), "--out", str(out), "--checkpoint", str(tmp_path / "missing.pt")]) == 1
    captured = capsys.readouterr()
    assert "error:" in captured.err and "3D coordinates" not in captured.out
    assert not out.exists()


def test_an_existing_out_folder_is_kept(tmp_path, capsys) -> None:
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    assert cli.main([str(bad), "--out", str(tmp_path), "--checkpoint", str(tmp_path / "missing.pt")]) == 1
    assert tmp_path.is_dir()


def test_progress_off_a_terminal_is_plain_lines() -> None:
    log = io.StringIO()  # not a terminal
    with TerminalProgress(log) as progress:
        for frame in range(101):
            progress(frame / 100, f"detecting people: frame {frame} of 100")
        progress(1.0, "done: 100 frames")
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and 10 <= len(lines) <= 13  # one per 10 % and one per new stage
    assert lines[0].startswith("  0% [") and lines[0].endswith("detecting people: frame 0 of 100")
    assert lines[-1].startswith("100% [") and lines[-1].endswith("done: 100 frames")


def test_the_app_prints_its_own_share_hint_not_gradios(monkeypatch, capsys) -> None:
    launched = {}

    def launch(**options):
        launched.update(options)

    demo = SimpleNamespace(launch=launch, local_url="http://127.0.0.1:7861/", share_url=None, block_thread=lambda: None)
    monkeypatch.setattr(app_main, "build_ui", lambda config: demo)
    app_main.main(["--port", "7861", "--device", "cpu"])
    assert launched["quiet"] and not launched["share"] and launched["server_port"] == 7861
    out = capsys.readouterr().out
    assert "http://127.0.0.1:7861/" in out and "--share" in out and "share=True" not in out
