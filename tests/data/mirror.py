"""A small local mirror of GitHub's raw files and of the Hugging Face Hub, for tests.

A real HTTP server (stdlib, in a thread) that answers what ``huggingface_hub``
asks for a file (``HEAD``/``GET /datasets/<repo>/resolve/<revision>/<file>`` with
the Hub's commit, ETag and size headers, and byte ranges) and serves raw files
at ``/<owner>/<repo>/<commit>/<path>`` like raw.githubusercontent.com. Each path
can be told to break off its first answer mid-body, as a dropped connection does.
"""

from __future__ import annotations

import hashlib
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

COMMIT = "c6aca0c" + "0" * 33
_RANGE = re.compile(r"bytes=(\d+)-")


class Mirror:
    """Files by URL path, the requests seen, and which paths break off once."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.break_once: set[str] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The mirror's base URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def hub_file(self, repo_id: str, filename: str, content: bytes, revision: str = "main") -> str:
        """Serve a dataset file the way the Hub resolves it; return its path."""
        path = f"/datasets/{repo_id}/resolve/{revision}/{filename}"
        self.files[path] = content
        return path

    def __enter__(self) -> Mirror:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _answer(self, body: bool) -> None:
                path = self.path.split("?")[0]
                headers = {name.lower(): value for name, value in self.headers.items()}
                mirror.requests.append((self.command, path, headers))
                content = mirror.files.get(path)
                if content is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.send_header("X-Error-Code", "EntryNotFound")
                    self.end_headers()
                    return
                start = 0
                if (match := _RANGE.match(self.headers.get("Range", ""))) is not None:
                    start = int(match.group(1))
                part = content[start:]
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(part)))
                self.send_header("Accept-Ranges", "bytes")
                if path.startswith("/datasets/"):
                    digest = hashlib.sha256(content).hexdigest()
                    self.send_header("X-Repo-Commit", COMMIT)
                    self.send_header("ETag", f'"{digest}"')
                    self.send_header("X-Linked-Etag", f'"{digest}"')
                    self.send_header("X-Linked-Size", str(len(content)))
                self.end_headers()
                if not body:
                    return
                if path in mirror.break_once:
                    mirror.break_once.discard(path)
                    self.wfile.write(part[: len(part) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.wfile.write(part)

            def do_HEAD(self) -> None:  # noqa: N802
                self._answer(body=False)

            def do_GET(self) -> None:  # noqa: N802
                self._answer(body=True)

        return Handler
