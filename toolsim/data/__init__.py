"""Reference data in one command: download, verify, unpack (``toolsim data get``).

:mod:`toolsim.data.stabletoolbench` knows where StableToolBench publishes its query
groups (GitHub) and its response cache and tool definitions (a Hugging Face
dataset); :mod:`toolsim.data.download` fetches files with progress, checksums and
resumption; :mod:`toolsim.data.archive` unpacks archives safely.
"""

from toolsim.data.stabletoolbench import (
    CACHE_SOURCE,
    QUERY_SOURCE,
    Fetched,
    HubFile,
    QueryFiles,
    get_stabletoolbench,
)

__all__ = [
    "CACHE_SOURCE",
    "QUERY_SOURCE",
    "Fetched",
    "HubFile",
    "QueryFiles",
    "get_stabletoolbench",
]
