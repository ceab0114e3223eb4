"""Headless Chromium for the tests of pages that must render offline (Data Docs, dictionary, report)."""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")


def chromium(page: Path, profile: Path, *args: str, budget_ms: int = 3000) -> subprocess.CompletedProcess:
    """Open `page` in headless Chromium that cannot reach any host (no proxy, no DNS)."""
    if not CHROMIUM.exists():
        pytest.fail(f"`{CHROMIUM}` not found: the offline-rendering tests need Chromium; install it as "
                    "`.ci/run` does: apt-get install -y --no-install-recommends chromium fonts-noto-cjk")
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
         "--host-resolver-rules=MAP * ~NOTFOUND", f"--virtual-time-budget={budget_ms}", *args,
         page.as_uri()],
        capture_output=True, text=True, timeout=60, check=True)


def png_pixels(png: bytes) -> tuple[int, int, bytes]:
    """Width, height and the (filtered) pixel bytes of a PNG, without an imaging library."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    data, pos = b"", 8
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        if kind == b"IDAT":
            data += png[pos + 8:pos + 8 + length]
        pos += 12 + length
    return width, height, zlib.decompress(data)
