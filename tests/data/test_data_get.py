"""``toolsim data get``: the real download path (``huggingface_hub``, HTTP) against a
local mirror the test builds, with a dropped connection, checksums and a second run."""

from __future__ import annotations

import hashlib
import io
import json
import random
import zipfile
from pathlib import Path

import pytest
from mirror import Mirror
from typer.testing import CliRunner

from toolsim.cli import app
from toolsim.data import stabletoolbench as stb
from toolsim.data.download import DownloadError
from toolsim.data.stabletoolbench import HubFile, QueryFiles, get_stabletoolbench
from toolsim.errors import UserError

pytest.importorskip("huggingface_hub")

REPO, COMMIT = "THUNLP-MT/StableToolBench", "a" * 40
GROUP = "solvable_queries/test_instruction/G1_instruction.json"
IDS = "solvable_queries/test_query_ids/G1_instruction.json"
CACHE = HubFile(repo_id="stabletoolbench/Cache", filename="server_cache.zip")
QUERY = [
    {
        "query": "What is the weather in Oslo?",
        "query_id": 7,
        "api_list": [
            {
                "category_name": "Weather",
                "tool_name": "SkyCast Weather",
                "api_name": "Current Weather",
                "api_description": "Current conditions for a city. " * 5000,  # several reads
                "required_parameters": [{"name": "city", "type": "STRING", "default": "Oslo"}],
                "optional_parameters": [],
                "method": "GET",
                "template_response": {"city": "str", "temperature": "float"},
            }
        ],
        "relevant APIs": [["SkyCast Weather", "Current Weather"]],
    }
]
REPLIES = {
    "{'city': 'Oslo'}": {"error": "", "response": {"city": "Oslo", "temperature": 3.5}},
    "{'city': 'Rome'}": {"error": "", "response": "{'city': 'Rome', 'temperature': 18.0}"},
}


def _archive(padding: int = 0) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        folder = "server/tool_response_cache/Weather/skycast_weather_for_Weather"
        zipped.writestr(f"{folder}/current_weather.json", json.dumps(REPLIES))
        zipped.writestr("server/tools/Weather/skycast_weather.json", json.dumps({"tool_name": "x"}))
        zipped.writestr("server/README.bin", random.Random(7).randbytes(padding))
    return buffer.getvalue()


#: Built once: a zip's bytes carry the time it was written. The big one spans over two of
#: huggingface_hub's 10 MB reads: a body broken off halfway has delivered one of them,
#: from which the download goes on.
ARCHIVE, BIG_ARCHIVE = _archive(), _archive(padding=24 << 20)


def _queries(mirror: Mirror) -> QueryFiles:
    contents = {GROUP: json.dumps(QUERY).encode(), IDS: b'{"7": 0}'}
    for path, content in contents.items():
        mirror.files[f"/{REPO}/{COMMIT}/{path}"] = content
    return QueryFiles(
        repo=REPO,
        commit=COMMIT,
        files={path: hashlib.sha256(content).hexdigest() for path, content in contents.items()},
    )


@pytest.fixture
def mirror():
    with Mirror() as serving:
        yield serving


@pytest.mark.slow  # 25 MB through a local server, twice
def test_everything_arrives_verified_even_through_a_dropped_connection(
    mirror: Mirror, tmp_path: Path
) -> None:
    queries = _queries(mirror)
    zip_path = mirror.hub_file(CACHE.repo_id, CACHE.filename, BIG_ARCHIVE)
    mirror.break_once = {zip_path, f"/{REPO}/{COMMIT}/{GROUP}"}

    fetched = get_stabletoolbench(
        tmp_path, queries=queries, cache=CACHE, github_url=mirror.url, endpoint=mirror.url
    )

    assert json.loads((tmp_path / GROUP).read_text()) == QUERY
    assert fetched.groups == [tmp_path / GROUP]
    assert fetched.response_cache == tmp_path / "server_cache" / "server" / "tool_response_cache"
    assert fetched.tools == tmp_path / "server_cache" / "server" / "tools"
    assert fetched.archive_sha256 == hashlib.sha256(BIG_ARCHIVE).hexdigest()
    # Both broken downloads went on from where they stopped, with a Range request.
    resumed = [path for method, path, headers in mirror.requests if "range" in headers]
    assert f"/{REPO}/{COMMIT}/{GROUP}" in resumed and zip_path in resumed
    assert any(method == "HEAD" and path == zip_path for method, path, _h in mirror.requests)

    mirror.requests.clear()
    again = get_stabletoolbench(
        tmp_path, queries=queries, cache=CACHE, github_url=mirror.url, endpoint=mirror.url
    )
    assert again.downloaded == [] and again.response_cache == fetched.response_cache
    assert not any(method == "GET" for method, _path, _headers in mirror.requests)


def test_a_file_that_does_not_match_its_checksum_is_refused_and_removed(
    mirror: Mirror, tmp_path: Path
) -> None:
    queries = _queries(mirror)
    mirror.files[f"/{REPO}/{COMMIT}/{GROUP}"] = b"[]"  # changed upstream
    with pytest.raises(DownloadError, match="SHA-256"):
        get_stabletoolbench(tmp_path, queries=queries, cache=None, github_url=mirror.url)
    assert not (tmp_path / GROUP).exists() and not list(tmp_path.rglob("*.part"))


DEAD = "http://127.0.0.1:9"


def test_offline_github_is_a_clear_error_naming_the_way_out(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="network reachable") as caught:
        get_stabletoolbench(tmp_path, cache=None, github_url=DEAD)
    assert "--github-url" in caught.value.message


@pytest.mark.slow  # huggingface_hub retries an unreachable Hub for about 25 s first
def test_offline_hub_is_a_clear_error_naming_the_way_out(tmp_path: Path) -> None:
    dead = DEAD
    with pytest.raises(UserError, match="network reachable") as caught:
        get_stabletoolbench(tmp_path, queries=QueryFiles(REPO, COMMIT), cache=CACHE, endpoint=dead)
    assert "--cache-zip" in caught.value.message and "HF_ENDPOINT" in caught.value.message


@pytest.mark.slow  # two whole commands, the import and the world
def test_the_command_fetches_imports_and_skips_a_second_import(
    mirror: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stb, "QUERY_SOURCE", _queries(mirror))
    mirror.hub_file(CACHE.repo_id, CACHE.filename, ARCHIVE)
    home = tmp_path / "home"
    command = [
        "data", "get", "stabletoolbench", "--home", str(home),
        "--endpoint", mirror.url, "--github-url", mirror.url,
    ]  # fmt: skip
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    assert "imported 2 entries from 1 files" in result.output
    assert "serve it: toolsim serve --tools" in result.output
    stats = CliRunner().invoke(app, ["cache", "stats", "--home", str(home)])
    assert "2 entries in 1 APIs" in stats.output and "imported" in stats.output
    again = CliRunner().invoke(app, command)
    assert again.exit_code == 0 and "already imported" in again.output


def test_an_unknown_dataset_lists_the_known_ones(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["data", "get", "toolbench-9000", "--home", str(tmp_path)])
    assert result.exit_code == 1 and "known: stabletoolbench" in result.output
