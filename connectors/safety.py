"""Checks that keep a `sources.yml` from reaching outside what it configures.

Names become SQL identifiers (tables `raw.<department>__<dataset>`, columns), paths are joined to
a department's base URL, landing patterns are globbed inside a folder. Each is refused when the
configuration is read, before any data moves, so no later step has to be careful about them.
"""

from __future__ import annotations

import re

from core.errors import ConfigError

IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
# a plain absolute URL path: /segment/segment…, each segment made of ordinary characters
_PATH_SEGMENT = re.compile(r"[A-Za-z0-9._~\-\u0080-\U0010ffff%+=,;:!$&'()*]+")


def check_identifier(file: str, source: str | None, key: str, name: object, what: str) -> None:
    """Department, dataset, column and table names: `[a-z][a-z0-9_]*`, nothing else."""
    if not isinstance(name, str) or not IDENTIFIER.fullmatch(name) or len(name) > 63:
        raise ConfigError(file, source, key, f"{what} name {str(name)!r} is not an identifier; use "
                          "lowercase letters, digits and `_`, starting with a letter (e.g. "
                          "`forest_area_ha`), at most 63 characters")


def check_url_path(file: str, source: str, path: str) -> None:
    """A dataset `path` is joined to the department's URL, so it must stay on that server."""
    problem = None
    if not path.startswith("/"):
        problem = "must start with `/`"
    elif path.startswith("//"):
        problem = "must not start with `//` (that names another host)"
    elif re.match(r"^/?[A-Za-z][A-Za-z0-9+.\-]*:", path) or "://" in path:
        problem = "must not carry a scheme (`http:`…): the host comes from the department's URL variable"
    elif "@" in path:
        problem = "must not contain `@` (credentials or another host)"
    elif "\\" in path or any(ord(c) < 32 or ord(c) == 127 for c in path):
        problem = "must not contain backslashes or control characters"
    else:
        segments = path.split("?", 1)[0].split("/")[1:]
        if any(s in (".", "..") for s in segments):
            problem = "must not contain `.` or `..` segments"
        elif any(s and not _PATH_SEGMENT.fullmatch(s) for s in segments):
            problem = "must be a plain URL path"
    if problem:
        raise ConfigError(file, source, "path", f"`{_shown(path)}` {problem}; give the path on the "
                          "department's server, e.g. /files/forestry/forest_resources.csv")


def check_landing_pattern(file: str, source: str, pattern: str) -> None:
    """A landing pattern names files inside the landing folder, never outside it."""
    if not pattern or "/" in pattern or "\\" in pattern or ".." in pattern or "**" in pattern \
            or pattern.startswith("~") or any(ord(c) < 32 for c in pattern):
        raise ConfigError(file, source, "landing_pattern", f"`{_shown(pattern)}` would reach outside the "
                          "landing folder; give a file-name pattern such as `森林资源*.csv`")


def _shown(text: str) -> str:
    """Text for a one-line message: control characters escaped (`\\n`), never printed raw."""
    return text.encode("unicode_escape").decode("ascii") if any(ord(c) < 32 for c in text) else text
