"""Fetching files: from any HTTP server (resumable) and from the Hugging Face Hub.

Every file is verified against a SHA-256 before it is used: a pinned checksum
where toolsim knows one, else the checksum the Hub publishes for the file (its
LFS object id). A download that breaks off is resumed: plain HTTP files from a
``.part`` file with a ``Range`` request (across runs too), Hub files by
``huggingface_hub`` itself within one run (it re-requests the missing range after
a dropped connection; a run that is killed starts that file again). A file
already in place with the right checksum is not downloaded again.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path

import httpx

from toolsim.errors import UserError
from toolsim.optional import import_optional

#: Attempts at one HTTP file; each resumes where the last stopped.
ATTEMPTS = 5
CHUNK = 1 << 16
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

Progress = Callable[[int], None]


class DownloadError(UserError):
    """A file could not be fetched or did not match its checksum."""


def sha256_of(path: Path) -> str:
    """The SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _check(path: Path, expected: str, what: str) -> None:
    actual = sha256_of(path)
    if actual != expected:
        path.unlink(missing_ok=True)
        raise DownloadError(
            f"{what} has SHA-256 {actual}, expected {expected}: the download was damaged or "
            "the file changed upstream (deleted; run the command again)"
        )


def fetch_url(
    url: str,
    dest: Path,
    sha256: str,
    *,
    client: httpx.Client,
    progress: Progress | None = None,
) -> bool:
    """Download ``url`` to ``dest`` unless it is there already; return whether it downloaded.

    Resumes from ``dest.part`` with a ``Range`` request (the server may ignore it and
    send everything: then it starts over), up to :data:`ATTEMPTS` times, and checks
    the SHA-256 before moving the file into place.
    """
    if dest.exists() and sha256_of(dest) == sha256:
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    last: Exception | None = None
    for _attempt in range(ATTEMPTS):
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            with client.stream("GET", url, headers=headers) as answer:
                if answer.status_code == 416:  # nothing left to send: the part is whole
                    break
                if answer.status_code not in (200, 206):
                    raise DownloadError(f"{url} answered HTTP {answer.status_code}")
                mode = "ab" if answer.status_code == 206 else "wb"
                with part.open(mode) as handle:
                    for block in answer.iter_bytes(CHUNK):
                        handle.write(block)
                        if progress is not None:
                            progress(len(block))
            break
        except (httpx.TransportError, httpx.StreamError) as exc:
            last = exc
    else:
        raise DownloadError(
            f"cannot download {url}: {last!r}"[:400]
            + "; is the network reachable? (a mirror can be named with --github-url)"
        )
    _check(part, sha256, url)
    os.replace(part, dest)
    return True


def fetch_hub_file(
    repo_id: str,
    filename: str,
    *,
    repo_type: str,
    revision: str,
    cache_dir: Path,
    endpoint: str | None = None,
) -> Path:
    """A file of a Hugging Face repository, through ``huggingface_hub``'s own download.

    Verified against the SHA-256 the Hub published for it: ``huggingface_hub`` keeps a
    large (LFS) file as a blob named by that checksum (its ETag), so the check works
    offline too once the file is cached. Offline, or with the Hub unreachable and
    nothing cached, a clear error says so and what to do.
    """
    hub = import_optional(
        "huggingface_hub",
        UserError("downloading from the Hugging Face Hub needs pip install 'toolsim[data]'"),
    )
    errors = import_optional("huggingface_hub.errors", UserError("huggingface_hub is broken"))
    where = f"{endpoint or hub.constants.ENDPOINT}/{repo_type}s/{repo_id} ({filename}@{revision})"
    try:
        path = Path(
            hub.hf_hub_download(
                repo_id,
                filename,
                repo_type=repo_type,
                revision=revision,
                cache_dir=cache_dir,
                endpoint=endpoint,
            )
        )
    except (errors.LocalEntryNotFoundError, errors.HfHubHTTPError, OSError) as exc:
        raise DownloadError(
            f"cannot download {where}: {exc}"[:500]
            + "; is the network reachable? (a Hub mirror can be named with --endpoint or "
            "HF_ENDPOINT; a file downloaded by hand can be given with --cache-zip)"
        ) from None
    blob = path.resolve()
    if _SHA256.match(blob.name):
        _check(blob, blob.name, where)
    return path
