"""YAML documents parsed by libyaml (PyYAML's C loader) instead of PyYAML's pure-Python one.

Every flow run reads sources.yml, kpis.yml and dbt_like_sql/sources.yml several times (each task
checks the configuration it was given); parsed in pure Python that was about a tenth of an
ingest's time, and the C loader is ~8x faster. Every YAML file of the repository parses to the same
document either way. Differences at the edges: libyaml accepts a tab after `key:`, and its error
texts are worded differently (still `yaml.YAMLError`, with the line and column).
"""

from __future__ import annotations

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # a PyYAML built without libyaml: slower, same result
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


def safe_load(text: str) -> object:
    """The document in `text`, safely (no Python objects), as `yaml.safe_load` reads it."""
    return yaml.load(text, Loader=_Loader)  # a safe loader (CSafeLoader), only faster
