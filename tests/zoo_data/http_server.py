"""A real HTTP server on 127.0.0.1 for download tests: serves a folder, honours
``Range: bytes=N-`` with 206 responses, records every request, and injects faults."""

from __future__ import annotations

import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse


class ZooServer:
    """Serve ``root`` at ``self.url`` until :meth:`stop`.

    Attributes:
      requests: ``(method, path, range header or None)`` of every request, in order.
      cut_once: paths (e.g. ``"/data/train-00001-of-00008.parquet"``) whose next GET
        announces the full length, sends half of the bytes and drops the connection.
      ranges: whether ``Range`` requests are honoured (else the whole file, 200).
      redirect_to: a base URL (another server): every request is answered with a 302
        to the same path there.
      stall: paths whose GET sends the headers and half the bytes, then nothing for
        ``stall_s`` seconds.
      endless: paths whose GET sends no ``Content-Length`` and zero bytes until the
        client hangs up.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.requests: list[tuple[str, str, str | None]] = []
        self.cut_once: set[str] = set()
        self.ranges = True
        self.prefix = ""  # e.g. "/datasets/org/name/resolve/main": the Hub's URL layout
        self.headers: dict[str, str] = {}  # sent with every file response
        self.redirect_to: str | None = None
        self.stall: set[str] = set()
        self.stall_s = 5.0
        self.endless: set[str] = set()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
                self._serve(body=False)

            def do_GET(self) -> None:  # noqa: N802
                self._serve(body=True)

            def _serve(self, body: bool) -> None:
                path = unquote(urlparse(self.path).path)
                rng = self.headers.get("Range")
                server.requests.append((self.command, path, rng))
                if server.redirect_to is not None:
                    self.send_response(302)
                    self.send_header("Location", server.redirect_to + self.path)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if path in server.endless and body:
                    self.send_response(200)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.close_connection = True
                    block = bytes(1 << 16)
                    try:
                        while True:
                            self.wfile.write(block)
                    except OSError:  # the client hung up
                        return
                if server.prefix:
                    if not path.startswith(server.prefix + "/"):
                        self.send_error(404, "Not Found")
                        return
                    path = path[len(server.prefix):]
                file = (server.root / path.lstrip("/")).resolve()
                if server.root.resolve() not in file.parents or not file.is_file():
                    self.send_error(404, "Not Found")
                    return
                data = file.read_bytes()
                start = 0
                if rng and server.ranges and rng.startswith("bytes=") and rng.endswith("-"):
                    start = int(rng[len("bytes="):-1])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range",
                                     f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                payload = data[start:]
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Accept-Ranges", "bytes")
                for key, value in server.headers.items():
                    self.send_header(key, value.format(sha256=hashlib.sha256(data).hexdigest()))
                self.end_headers()
                if not body:
                    return
                if path in server.stall:
                    self.wfile.write(payload[: len(payload) // 2])
                    self.wfile.flush()
                    time.sleep(server.stall_s)
                    self.close_connection = True
                    return
                if path in server.cut_once:
                    server.cut_once.discard(path)
                    self.wfile.write(payload[: len(payload) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(payload)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> ZooServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def gets(self, suffix: str) -> list[str | None]:
        """The Range headers of every GET of a path ending in ``suffix``."""
        return [r for m, p, r in self.requests if m == "GET" and p.endswith(suffix)]
