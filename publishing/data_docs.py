"""Build GX Data Docs as a static site that renders with no network.

GX 1.24 builds the pages offline, but they load jQuery, Bootstrap, bootstrap-table, Vega, ... from
CDNs and the navbar logo from an S3 view beacon. With no network the index page is empty, because
bootstrap-table draws its lists of suites and results with JS. So we build GX's own site, copy the
same libraries (pinned in `data_docs_assets/package.json`, installed by `bootstrap.sh`) into
`static/vendor/`, and point every page at them with relative links. A CDN link this module does not
know (say, after a GX upgrade) fails the build instead of shipping pages that call out.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from expectations.errors import DataDocsError

if TYPE_CHECKING:  # GX takes ~2.5 s to import: only building the docs pays for it
    from great_expectations import ExpectationSuite
    from great_expectations.data_context import FileDataContext

ASSETS_DIR = Path(__file__).resolve().parent / "data_docs_assets"
INSTALL_HINT = ("run `bash bootstrap.sh run` (or `npm ci --prefix publishing/data_docs_assets "
                "--legacy-peer-deps`)")
SITE_NAME = "carbonpeak"

# CDN URL as GX 1.24.1 writes it (query dropped) -> the same file under node_modules/, copied to
# static/vendor/ with its node_modules path. GX mixes bootstrap-table 1.19.0 and 1.19.1 links; the
# filter-control CSS is the same file in both.
VENDORED = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js":
        "popper.js/dist/umd/popper.min.js",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js":
        "bootstrap/dist/js/bootstrap.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css":
        "bootstrap/dist/css/bootstrap.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        "bootstrap-table/dist/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        "bootstrap-table/dist/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "@fortawesome/fontawesome-free/css/all.min.css",
    # jsdelivr serves a package's `jsdelivr` entry file for a bare `name@major` URL.
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/build/vega-embed.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "@forevolve/bootstrap-dark/dist/css/bootstrap-prefers-dark.css",
}
VENDORED_DIRS = ("@fortawesome/fontawesome-free/webfonts",)  # all.min.css loads ../webfonts/*

# The logo is a view beacon (GX appends the time and the context id). GX ships the light logo in
# static/images; it has no local dark one, so dark mode shows the light logo too.
_S3 = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com"
LOCAL = {
    **{url: f"static/vendor/{path}" for url, path in VENDORED.items()},
    f"{_S3}/logo-long.png": "static/images/logo-long.png",
    f"{_S3}/full_logo_dark.png": "static/images/logo-long.png",
}

# Where a page loads something: src/href of <script>, <link>, <img>, and CSS url(). Links (<a>)
# may point anywhere. `//host/...` counts as remote too.
_REMOTE = r"(?:https?:)?//"
_TAG = re.compile(r"<(?:script|link|img)\b[^>]*>", re.IGNORECASE)
_TAG_URL = re.compile(rf"""\b(src|href|srcset)=(["'])({_REMOTE}[^"']*)\2""", re.IGNORECASE)
_CSS_URL = re.compile(rf"""url\((["']?)({_REMOTE}[^"')]*)\1\)""", re.IGNORECASE)
_SRI = re.compile(r"""\s+(?:integrity|crossorigin)=(["'])[^"']*\1""", re.IGNORECASE)
_STATIC = re.compile(r"""\b(src|href)=(["'])(?:\./|(?:\.\./)+)static/""", re.IGNORECASE)


def build_data_docs(site_dir: Path, suites: list[ExpectationSuite], results: Iterable[dict] = ()) -> Path:
    """Build GX's Data Docs for `suites` and `results` into `site_dir`; return its index.html.

    `results` are validation results as `ExpectationSuiteValidationResult.to_json_dict()` gives them.
    The index lists only what is passed here, even if `site_dir` holds pages of an earlier build.
    """
    site_dir = Path(site_dir).resolve()
    _check_assets()
    _build_gx_site(site_dir, suites, results)
    _vendor_assets(site_dir)
    for page in sorted(site_dir.rglob("*.html")) + sorted((site_dir / "static" / "styles").rglob("*.css")):
        _rewrite_file(page, site_dir)
    return site_dir / "index.html"


def _build_gx_site(site_dir: Path, suites: list[ExpectationSuite], results: Iterable[dict]) -> None:
    """GX's own site, from a throwaway file context that holds only what we pass."""
    import great_expectations as gx
    from great_expectations.data_context.data_context.context_factory import project_manager
    from great_expectations.exceptions import DataContextRequiredError

    try:
        previous = project_manager.get_current_project()
    except DataContextRequiredError:
        previous = None
    try:
        with tempfile.TemporaryDirectory(prefix="carbonpeak-gx-") as project:
            context = gx.get_context(mode="file", project_root_dir=project)
            context.variables.data_docs_sites = {SITE_NAME: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                  "base_directory": str(site_dir)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }}
            context.variables.save()
            for suite in suites:
                context.suites.add_or_update(_detached(suite))
            for result in results:
                _store_result(context, result)
            context.build_data_docs(site_names=[SITE_NAME])
    finally:
        # get_context() made ours GX's current context: hand back the caller's, not a deleted folder.
        project_manager.set_project(previous)


def _check_assets() -> None:
    for path in [*VENDORED.values(), *VENDORED_DIRS]:
        if not (ASSETS_DIR / "node_modules" / path).exists():
            raise DataDocsError(str(ASSETS_DIR / "node_modules" / path),
                                f"missing, so the Data Docs would need a CDN; {INSTALL_HINT}")


def _detached(suite: ExpectationSuite) -> ExpectationSuite:
    """A copy to store: `add_or_update` would tie the caller's suite to our throwaway context."""
    import great_expectations as gx

    doc = suite.to_json_dict()
    return gx.ExpectationSuite(name=doc["name"], expectations=doc["expectations"], meta=doc.get("meta"),
                               notes=doc.get("notes"))


def _store_result(context: FileDataContext, result: dict) -> None:
    """Put one result in the context's store under the key its validation run would have used."""
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResultSchema,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    meta = result.get("meta") or {}
    # A checkpoint or validation definition records its run; a bare `batch.validate()` only
    # records when the batch was loaded.
    run = meta.get("run_id") or {}
    run_time = (run.get("run_time") or meta.get("validation_time")
                or (meta.get("batch_markers") or {}).get("ge_load_time"))
    if not run_time:
        raise DataDocsError(f"validation result of suite `{result.get('suite_name')}`",
                            "has no run time (meta.run_id, validation_time or batch_markers.ge_load_time)")
    batch = meta.get("active_batch_definition") or {}
    batch_id = "-".join(str(batch[k]) for k in ("datasource_name", "data_asset_name") if batch.get(k))
    value = ExpectationSuiteValidationResultSchema().load(inert_values(result))
    key = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=value.suite_name),
        run_id=RunIdentifier(run_name=run.get("run_name"), run_time=run_time),
        batch_identifier=batch_id or None,
    )
    context.validation_results_store.set(key, value)


def inert_values(result: dict) -> dict:
    """The result with every value a source sent HTML-escaped.

    GX's renderers put unexpected values, observed values and exception texts into the pages as
    raw HTML: a department's cell `<script>…</script>` would run in whoever opens the Data Docs.
    The values a page shows come from each expectation's `result` and `exception_info`.
    """
    def escape(value: object) -> object:
        if isinstance(value, str):
            return html.escape(value, quote=True)
        if isinstance(value, list):
            return [escape(v) for v in value]
        if isinstance(value, dict):
            return {k: escape(v) for k, v in value.items()}
        return value

    return {**result, "results": [
        {**r, **{k: escape(r[k]) for k in ("result", "exception_info") if k in r}}
        for r in result.get("results") or []]}


def _vendor_assets(site_dir: Path) -> None:
    modules, vendor = ASSETS_DIR / "node_modules", site_dir / "static" / "vendor"
    for path in VENDORED.values():
        (vendor / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(modules / path, vendor / path)
    for path in VENDORED_DIRS:
        shutil.copytree(modules / path, vendor / path, dirs_exist_ok=True)


def _rewrite_file(page: Path, site_dir: Path) -> None:
    text = page.read_text(encoding="utf-8")
    new = rewrite_offline(text, Path(os.path.relpath(site_dir, page.parent)).as_posix())
    left = remote_urls(new)
    if left:
        raise DataDocsError(str(page), f"still loads `{left[0]}` from the network; GX's templates have "
                            "changed: vendor it in `publishing/data_docs_assets` and map it in "
                            "`publishing/data_docs.py`")
    if new != text:
        page.write_text(new, encoding="utf-8")


def rewrite_offline(text: str, root: str) -> str:
    """Point known CDN links of a page at the site's copies; `root` is the site seen from the page.

    Idempotent: a rewritten link is relative and already rooted at `root`, so a second pass
    changes nothing.
    """
    def local(url: str) -> str:
        path = LOCAL.get(url.split("?", 1)[0])
        return f"{root}/{path}" if path else url  # unknown ones are reported by remote_urls()

    def tag(match: re.Match) -> str:
        # Subresource-integrity hashes are for the CDN copies; a local file needs none.
        opened = _SRI.sub("", match.group(0))
        # GX puts the favicon of validation pages one folder too high (favicon.j2 counts 3 levels
        # where top_navbar.j2 counts 4): re-root every link into static/.
        opened = _STATIC.sub(lambda m: f"{m[1]}={m[2]}{root}/static/", opened)
        return _TAG_URL.sub(lambda m: f"{m[1]}={m[2]}{local(m[3])}{m[2]}", opened)

    text = _TAG.sub(tag, text)
    return _CSS_URL.sub(lambda m: f"url({m[1]}{local(m[2])}{m[1]})", text)


def remote_urls(text: str) -> list[str]:
    """URLs a browser would fetch from the network to render this page or stylesheet."""
    in_tags = [m[3] for tag in _TAG.finditer(text) for m in _TAG_URL.finditer(tag.group(0))]
    return in_tags + [m[2] for m in _CSS_URL.finditer(text)]
