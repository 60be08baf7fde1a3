"""A real S3-compatible server for the fleet's tests: moto's standalone server on 127.0.0.1, as a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

BUCKET = "llmdb-fleet"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class S3Server:
    """`python -m moto.server` on a fixed port, so a stopped server can come back at the same address (its data
    is in memory: a restart starts empty, like a store that lost everything)."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> S3Server:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=log,
                env={**os.environ, **CREDENTIALS},
            )
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                urllib.request.urlopen(self.endpoint + "/", timeout=1).read()
                return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"moto server did not start: {self.log.read_text()}")

    def create_bucket(self, name: str = BUCKET) -> None:
        request = urllib.request.Request(f"{self.endpoint}/{name}", method="PUT")
        urllib.request.urlopen(request, timeout=10).read()

    def _bucket(self, bucket: str) -> Any:
        from obstore.store import S3Store

        return S3Store(
            bucket,
            endpoint=self.endpoint,
            region="us-east-1",
            access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            client_options={"allow_http": True},
        )

    def put(self, key: str, data: bytes, bucket: str = BUCKET) -> None:
        """A signed PUT, as any S3 client makes (moto refuses anonymous overwrites)."""
        import obstore

        obstore.put(self._bucket(bucket), key, data)

    def get(self, key: str, bucket: str = BUCKET) -> bytes:
        import obstore

        return bytes(obstore.get(self._bucket(bucket), key).bytes())

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def config(self) -> str:
        """The daemon config's `[s3]` table for this server."""
        return f'[s3]\nendpoint = "{self.endpoint}"\nregion = "us-east-1"\nallow_http = true\n'
