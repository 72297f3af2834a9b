"""The ``toolsim`` command: cache import/export/stats in-process, serve as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from support import free_port
from typer.testing import CliRunner

from toolsim.cli import app

runner = CliRunner()


def _reference_cache(root: Path) -> None:
    folder = root / "Weather" / "skycast_weather_for_Weather"
    folder.mkdir(parents=True)
    (folder / "current_weather.json").write_text(
        json.dumps(
            {
                "{'city': 'Oslo'}": {"error": "", "response": {"temp": 3}},
                "{'city': 'Rome', 'units': 'metric'}": {"error": "", "response": "sunny"},
            }
        )
    )


def test_cache_import_stats_export_round_trip(tmp_path: Path) -> None:
    source, target, home = tmp_path / "ref", tmp_path / "out", tmp_path / "home"
    _reference_cache(source)
    result = runner.invoke(app, ["cache", "import", str(source), "--home", str(home)])
    assert result.exit_code == 0, result.output
    assert "imported 2 entries from 1 files" in result.output

    result = runner.invoke(app, ["cache", "stats", "--home", str(home)])
    assert result.exit_code == 0, result.output
    assert "2 entries in 1 APIs" in result.output
    assert "imported" in result.output

    result = runner.invoke(app, ["cache", "export", str(target), "--home", str(home)])
    assert result.exit_code == 0, result.output
    exported = json.loads(
        (target / "Weather" / "skycast_weather_for_Weather" / "current_weather.json").read_text()
    )
    original = json.loads(
        (source / "Weather" / "skycast_weather_for_Weather" / "current_weather.json").read_text()
    )
    assert exported == original


def test_cache_import_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["cache", "import", str(tmp_path / "nope"), "--home", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "no such folder" in result.output
    assert "Traceback" not in result.output


def test_missing_extra_prints_the_exact_install_hint(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)  # as without the redis extra
    url = "redis://127.0.0.1:1/0"

    result = runner.invoke(app, ["cache", "stats", "--home", str(tmp_path), "--cache-url", url])

    assert result.exit_code == 1
    hint = f"error: cache URL '{url}' needs the redis client: pip install 'toolsim[redis]'\n"
    assert result.output == hint  # literally: rich markup would make it 'toolsim'


def test_progress_and_tables_print_brackets_literally(capsys) -> None:
    from rich.table import Table

    from toolsim.cli.console import console, progress_bars

    table = Table("status")
    table.add_row("[answered 2, failed 1]")
    console.print(table)
    bars = progress_bars()
    task = bars.add_task("solving [answered 2]", total=1)
    rendered = bars.columns[0].render(bars.tasks[task])

    assert "[answered 2, failed 1]" in capsys.readouterr().out
    assert rendered.plain == "solving [answered 2]"


def test_unknown_simulator_lists_the_known_ones(tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve", "--simulator", "nope", "--home", str(tmp_path)])
    assert result.exit_code == 1
    assert "unknown simulator 'nope'" in result.output
    assert "schema" in result.output


@pytest.mark.slow
def test_serve_answers_virtual_calls_as_a_real_process(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "TOOLSIM_HOME": str(tmp_path), "TOOLSIM_SIMULATOR__BACKEND": "schema"}
    command = [sys.executable, "-m", "toolsim", "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not come up within 60 s"
            time.sleep(0.1)  # polling interval while waiting for a real process, not a sync
        body = {
            "category": "Weather",
            "tool_name": "SkyCast Weather",
            "api_name": "Current Weather",
            "tool_input": '{"city": "Oslo"}',
            "strip": "",
            "toolbench_key": "",
        }
        first = httpx.post(f"{base}/virtual", json=body, timeout=10).json()
        second = httpx.post(f"{base}/virtual", json=body, timeout=10).json()
        assert first["error"] == "" and first == second
        stats = httpx.get(f"{base}/stats", timeout=10).json()
        assert stats["since_start"]["hits"] == 1 and stats["since_start"]["misses"] == 1
    finally:
        server.terminate()
        server.communicate(timeout=30)
