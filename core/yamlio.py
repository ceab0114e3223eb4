"""YAML documents parsed by libyaml (PyYAML's C loader), the same documents as `yaml.safe_load`.

Every flow run reads sources.yml, kpis.yml and dbt_like_sql/sources.yml several times (each task
checks the configuration it was given); parsed in pure Python that was about a tenth of an
ingest's time, and the C loader is ~8x faster. Errors are `yaml.YAMLError`, with the line and
column, as before.
"""

from __future__ import annotations

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # a PyYAML built without libyaml: slower, same result
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


def safe_load(text: str) -> object:
    """The document in `text`, safely (no Python objects), as `yaml.safe_load` gives it."""
    return yaml.load(text, Loader=_Loader)  # a safe loader (CSafeLoader), only faster
