"""StableToolBench's reference data, from where the benchmark publishes it.

* **Query groups** (the six solvable test groups and their query ids): the
  benchmark's GitHub repository, ``THUNLP-MT/StableToolBench``, under
  ``solvable_queries/``, pinned to one commit and verified by SHA-256.
* **Response cache and tool definitions**: the Hugging Face dataset
  ``stabletoolbench/Cache``, one archive (``server_cache.zip``, about 236 MB) holding
  ``tool_response_cache/`` and ``tools/``, fetched with ``huggingface_hub`` and
  verified against the checksum the Hub publishes.

:func:`get_stabletoolbench` fetches both into one folder, skipping what is already
there, and unpacks the archive; the CLI then imports the cache (``toolsim data
get stabletoolbench``). Every source can point at a mirror (``github_url``,
``endpoint``), which is also how the tests run the real download path offline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from toolsim.data.archive import find_folder, unzip
from toolsim.data.download import fetch_hub_file, fetch_url, sha256_of
from toolsim.errors import UserError

GITHUB_RAW = "https://raw.githubusercontent.com"


@dataclass(frozen=True)
class QueryFiles:
    """Files of a GitHub repository at one commit, each with its SHA-256."""

    repo: str
    commit: str
    #: Path in the repository -> SHA-256 of its content.
    files: dict[str, str] = field(default_factory=dict)

    def url(self, base: str, path: str) -> str:
        """The raw URL of one file (``base`` is GitHub's raw host or a mirror of it)."""
        return f"{base.rstrip('/')}/{self.repo}/{self.commit}/{path}"


@dataclass(frozen=True)
class HubFile:
    """One file of a Hugging Face repository, at a revision."""

    repo_id: str
    filename: str
    repo_type: str = "dataset"
    revision: str = "main"


#: The six solvable groups and their query ids, at the commit the shared data came from
#: (checksums of the files at that commit).
QUERY_SOURCE = QueryFiles(
    repo="THUNLP-MT/StableToolBench",
    commit="aa4ed9f4737ad98bd706663f01d63623c3427812",
    files={
        "solvable_queries/test_instruction/G1_instruction.json": (
            "500aa0105ed451538448f6ea04f10661536b013f3e1a293840fe401688160e7c"
        ),
        "solvable_queries/test_instruction/G1_category.json": (
            "123cb9073c8b6e6473df91c8a51170277087e1c263eba2eb6077170edbe849c3"
        ),
        "solvable_queries/test_instruction/G1_tool.json": (
            "05d0c180bbec9d060fd267cc79399bda05beddd0a6d0de68b5488926a9029a1a"
        ),
        "solvable_queries/test_instruction/G2_instruction.json": (
            "82d569cd0fc8fc742a15a3011fb5cd6a8b11e0a5b344c884602347439f43cad7"
        ),
        "solvable_queries/test_instruction/G2_category.json": (
            "71e18112f7940934f159d623b1c2b4740b1b4dc58a0b596c63b8151abbf8267e"
        ),
        "solvable_queries/test_instruction/G3_instruction.json": (
            "f923d1a9452646bd1a415b266117d90675d0f8fc04cf014db58d3cd78c25634f"
        ),
        "solvable_queries/test_query_ids/G1_instruction.json": (
            "b3dae86a67ce471413df4c734034b0c729357aebb233242a444cc2b8380f2f7f"
        ),
        "solvable_queries/test_query_ids/G1_category.json": (
            "f449a1cc1273b7dc4b77ab5db4fc4fe5593f6ac681d0b5bd579c74c0a786c589"
        ),
        "solvable_queries/test_query_ids/G1_tool.json": (
            "8a0335fc7abaf657a8c99389c06182d542e094a65d7485cde013e229954793a4"
        ),
        "solvable_queries/test_query_ids/G2_instruction.json": (
            "fa4724a27852558c3cebd7a7fb144c9547c369cc340f535be6f0514282dd4e96"
        ),
        "solvable_queries/test_query_ids/G2_category.json": (
            "f2b9dea1741cfd948e9e3c40b5b580bb6c3ab325768e3090a0ca9114379024a3"
        ),
        "solvable_queries/test_query_ids/G3_instruction.json": (
            "6cc8630db8a2a1219f5045fb482fbbaee96071ab11531cba3151d410d9f8f175"
        ),
    },
)
#: The response cache and tool definitions StableToolBench's server runs on.
CACHE_SOURCE = HubFile(repo_id="stabletoolbench/Cache", filename="server_cache.zip")


@dataclass
class Fetched:
    """Where the fetched data is, and what was downloaded this time."""

    root: Path
    queries: Path
    response_cache: Path | None = None
    tools: Path | None = None
    #: The SHA-256 of the archive the cache was unpacked from ("" without one).
    archive_sha256: str = ""
    downloaded: list[str] = field(default_factory=list)

    @property
    def groups(self) -> list[Path]:
        """The query group files."""
        return sorted((self.queries / "test_instruction").glob("*.json"))


def get_stabletoolbench(
    dest: Path,
    *,
    queries: QueryFiles | None = None,
    cache: HubFile | None = CACHE_SOURCE,
    cache_zip: Path | None = None,
    github_url: str = GITHUB_RAW,
    endpoint: str | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> Fetched:
    """Fetch StableToolBench's query groups and (unless ``cache`` is None) its response
    cache and tool definitions into ``dest``; return where everything is.

    ``cache_zip`` uses an archive already on disk instead of the Hub (it is not
    checksummed: there is nothing to check it against). ``progress(what, amount,
    total)`` is told how each step advances.
    """
    dest = Path(dest)
    queries = queries or QUERY_SOURCE
    fetched = Fetched(root=dest, queries=dest / "solvable_queries")
    with httpx.Client(timeout=60, follow_redirects=True) as client:
        for path, sha256 in queries.files.items():
            target = dest / path
            if fetch_url(
                queries.url(github_url, path),
                target,
                sha256,
                client=client,
                progress=None if progress is None else lambda n: progress("queries", n, None),
            ):
                fetched.downloaded.append(path)
    if cache is None and cache_zip is None:
        return fetched
    if cache_zip is not None:
        if not cache_zip.is_file():
            raise UserError(f"no such file: {cache_zip}")
        archive = cache_zip
    else:
        assert cache is not None
        archive = fetch_hub_file(
            cache.repo_id,
            cache.filename,
            repo_type=cache.repo_type,
            revision=cache.revision,
            cache_dir=dest / "hub",
            endpoint=endpoint,
        )
    fetched.archive_sha256 = sha256_of(archive)
    unpacked = unzip(
        archive,
        dest / "server_cache",
        stamp=fetched.archive_sha256,
        progress=None if progress is None else lambda n: progress("unpacking", n, None),
    )
    fetched.response_cache = find_folder(unpacked, "tool_response_cache")
    fetched.tools = find_folder(unpacked, "tools")
    if fetched.response_cache is None:
        raise UserError(f"{archive} holds no tool_response_cache folder")
    return fetched
