"""A real HTTP server on 127.0.0.1 serving models.dev catalogs, with the failure modes upstream can have."""

from __future__ import annotations

import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "upstream" / "models.dev"


class Upstream:
    """`mode` picks the behaviour: ok, 500, slow, truncated, huge, notjson; `body` is what ok serves."""

    def __init__(self) -> None:
        self.body = (SHARED / "api.json").read_bytes()
        self.mode = "ok"
        self.requests: list[dict[str, str]] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                upstream.requests.append(dict(self.headers))
                etag = '"' + hashlib.sha256(upstream.body).hexdigest()[:16] + '"'
                mode = upstream.mode
                if mode == "500":
                    self.send_error(500, "upstream down")
                    return
                if mode == "notjson":
                    self._send(b"<html>502 Bad Gateway</html>", None)
                    return
                if mode == "ok" and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                if mode == "slow":
                    time.sleep(3)
                if mode == "truncated":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(upstream.body)))
                    self.end_headers()
                    self.wfile.write(upstream.body[: len(upstream.body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if mode == "huge":
                    self.send_response(200)
                    self.end_headers()  # no Content-Length: the limit must be enforced while streaming
                    chunk = b" " * 65536
                    try:
                        for _ in range(2000):
                            self.wfile.write(chunk)
                    except OSError:
                        pass
                    self.close_connection = True
                    return
                self._send(upstream.body, etag)

            def _send(self, body: bytes, etag: str | None) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if etag:
                    self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Upstream:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
