"""The embedded departmental-source server: token-protected, paginated JSON over loopback.

It stands in for the departments' own systems so that carbonpeak runs end to end on a fresh
machine, and it can inject the faults real feeds have (5xx bursts, slowness, truncated bodies,
a source that dies mid-run; renamed fields, unit slips, revisions, missing or late periods) so
the connectors and the data-quality gate can be tested against them.

    GET /health                                          no auth
    GET /api/v1/<department>                             datasets of a department
    GET /api/v1/<department>/<dataset>?page=1&page_size=100   ETag of the whole dataset, 304
    GET /files/<department>/<file>                       CSV / XLSX, ETag + Last-Modified, 304
    GET /api/v1/buildings/monitored_buildings, /building_meters   the meters' registers, paged
    GET /api/v1/buildings/meter_days?format=csv|parquet  manifest of the published day files, 304
    GET /files/buildings/meters/<YYYY-MM-DD>.csv|.parquet  one day's readings, ETag "<sha256>", 304
    GET /api/v1/buildings/meter_readings_today?page=1&page_size=10000  as_of's readings up to `now`
    POST /_faults                                        set faults (JSON body, see `Faults`)
    POST /_meters                                        move the meters' as_of, revise days, …

The meter readings come from `meters_feed.MetersFeed` (`server.meters`).

Hostile answers (an HTML login page, an oversized body, a 401 echoing the token or URL, a token
taken from the URL) are in `hostile.py`.

Why ~540 lines: one HTTP handler with every fault a real feed has (and the hostile ones);
the faults share the request state, so they live with the handler. The meters' routes only
pass requests to `meters_feed`.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import shutil
import threading
import time
from dataclasses import asdict, dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from core.redact import get_logger
from source_server import buildings_data, energy_data, hostile, meters_feed, power_data
from source_server.files import FILES, etag, with_faults
from source_server.meters_feed import MetersFeed
from source_server.periods import file_without_periods, period, without_periods

# Request lines quote the URL, and a client may carry its token there (`?access_token=`): in
# `carbonpeak run` this server shares the process and the Prefect log with the connectors.
log = get_logger(__name__)

DEPARTMENTS = {"energy": energy_data.DATASETS, "buildings": buildings_data.DATASETS,
               "power": power_data.DATASETS}
CURSOR_DEPARTMENTS = {"power"}  # these answer with `next_cursor` and honour `updated_since`
MAX_PAGE_SIZE = 1000


@dataclass
class Faults:
    """Faults to inject into the next data requests (counts go down as they are used)."""

    fail_next: int = 0  # answer this many data requests with `fail_status`
    fail_status: int = 503
    retry_after: float | None = None  # seconds, sent as Retry-After with the failures
    delay_seconds: float = 0.0  # sleep this long before answering ...
    delay_next: int = 0  # ... this many data requests (0 with a delay = every request)
    truncate_next: int = 0  # cut this many response bodies in half
    stop_after: int | None = None  # after this many data requests, the server goes away
    # Data faults, applied to every page while set:
    rename_field: dict[str, str] | None = None  # {"published name": "new name"}
    duplicate_rows: int = 0  # repeat the first N records of each page
    scale_field: dict[str, float] | None = None  # {"field": factor}, e.g. a ×10 000 unit slip
    revise: dict | None = None  # {"year": 2020, "field": "...", "factor": 1.05}: a revised past value
    empty: bool = False  # serve every dataset with no records (a broken export)
    # A period is (year, month) in monthly data, a year in yearly data; see periods.py.
    drop_period: dict | None = None  # {"year": 2024, "month": 7} or {"year": 2019}: a missing period
    latest_periods_missing: int = 0  # leave out the latest N periods: a department stopped publishing
    # Hostile answers to every data request (files and API pages) while set; see hostile.py:
    html_page: bool = False  # 200 with an HTML login page instead of the data (an SSO gateway)
    html_content_type: str = "text/html; charset=utf-8"  # what the login page claims to be
    oversize_bytes: int = 0  # 200 with a body of this many bytes instead of the data (0 = off)
    oversize_chunked: bool = False  # ... sent chunked, with no Content-Length to check up front
    echo_401: str | None = None  # "authorization" | "url": 401 quoting the request's header or URL
    token_in_url: bool = False  # also accept the token as ?access_token= / ?token= or Basic auth

    def __post_init__(self) -> None:
        hostile.check(self)
        if self.drop_period is not None and (not isinstance(self.drop_period, dict)
                                             or "year" not in self.drop_period
                                             or set(self.drop_period) - {"year", "month"}):
            raise ValueError(f"drop_period {self.drop_period!r}: give a `year` and optionally a "
                             '`month`, e.g. {"year": 2024, "month": 7}')
        if self.latest_periods_missing < 0:
            raise ValueError(f"latest_periods_missing {self.latest_periods_missing}: give 0 or more")


@dataclass(frozen=True)
class _Content:
    """A dataset as currently published: its records before and after the per-record faults."""

    raw: list[dict]  # what cursor feeds filter on (`updated_at`), whatever the faults renamed
    rows: list[dict]
    duplicate_rows: int  # the first N records of every page are sent twice
    etag: str  # of the whole dataset: any data fault that changes a value changes it


class SourceServer:
    """A departmental source on 127.0.0.1, started in a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, token: str | None = None,
                 meters: MetersFeed | None = None) -> None:
        self.token = token or secrets.token_urlsafe(16)
        self.meters = meters or MetersFeed()
        self.faults = Faults()
        self.requests_served = 0
        self._lock = threading.Lock()
        self._pages = {dept: {name: build() for name, build in datasets.items()}
                       for dept, datasets in DEPARTMENTS.items()}
        self._files: dict[str, bytes] = {}  # built on first request: XLSX takes a moment
        # Built on first request under the current faults, dropped when the faults change: the
        # ETag of a 20-page dataset is hashed once, and a faulted XLSX is rebuilt once, not per GET.
        self._contents: dict[tuple[str, str], _Content] = {}
        self._faulted_files: dict[str, bytes] = {}
        self._httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SourceServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="source-server",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self.meters.close()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()
            self.meters.close()

    def set_faults(self, **faults) -> None:
        faults = Faults(**faults)  # a bad value raises here, before anything changes
        with self._lock:
            self.faults = faults
            self._contents.clear()
            self._faulted_files.clear()

    def __enter__(self) -> SourceServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- request handling, called from the handler threads --------------------------------
    def count_request(self) -> None:
        """Count a data request answered before the transport faults (a hostile answer)."""
        with self._lock:
            self.requests_served += 1

    def take_fault(self) -> dict:
        """Count one data request and return the faults that apply to it."""
        with self._lock:
            self.requests_served += 1
            f = self.faults
            taken = {}
            if f.stop_after is not None and self.requests_served > f.stop_after:
                taken["stop"] = True
            if f.fail_next > 0:
                f.fail_next -= 1
                taken["fail"] = (f.fail_status, f.retry_after)
            if f.delay_seconds and (f.delay_next > 0 or not f.delay_next):
                taken["delay"] = f.delay_seconds
                if f.delay_next > 0:
                    f.delay_next -= 1
                    if f.delay_next == 0:
                        f.delay_seconds = 0.0
            if f.truncate_next > 0:
                f.truncate_next -= 1
                taken["truncate"] = True
            return taken

    def datasets(self, department: str) -> list[str]:
        """The paged datasets of a department: the meters' registers are the feed's, not DEPARTMENTS'."""
        registers = meters_feed.REGISTERS if department == "buildings" else ()
        return sorted([*DEPARTMENTS[department], *registers])

    def content(self, department: str, dataset: str) -> _Content:
        """The dataset with the current data faults applied, and its ETag (cached until they change)."""
        register = department == "buildings" and dataset in meters_feed.REGISTERS
        key = (department, dataset, self.meters.version if register else 0)  # a `set` re-pages them
        with self._lock:
            f, cached = self.faults, self._contents.get(key)
        if cached is not None:
            return cached
        pages = self.meters.register(dataset) if register else self._pages[department][dataset]
        raw = [] if f.empty else pages
        raw = without_periods(raw, lambda r: period(r.get("year"), r.get("month")),
                              f.drop_period, f.latest_periods_missing)
        rows = [_apply_data_faults(dict(r), f) for r in raw]
        # duplicate_rows repeats records on every page, so it is part of what is published
        body = json.dumps([rows, f.duplicate_rows], ensure_ascii=False, sort_keys=True)
        content = _Content(raw, rows, f.duplicate_rows, etag(body.encode()))
        with self._lock:
            if self.faults is f:  # not if the faults changed meanwhile: that content is stale
                self._contents[key] = content
        return content

    def page(self, department: str, dataset: str, page: int, page_size: int) -> dict:
        content = self.content(department, dataset)
        rows = content.rows
        start = (page - 1) * page_size
        last_page = max(1, -(-len(rows) // page_size))
        data = rows[start:start + page_size]
        data = data[: content.duplicate_rows] + data
        return {
            "department": department, "dataset": dataset, "page": page, "page_size": page_size,
            "total": len(rows), "next_page": page + 1 if page < last_page else None,
            "synthetic": True, "note": "Demo data calibrated on published figures; see DATA.md",
            "data": data,
        }

    def file(self, name: str) -> bytes:
        with self._lock:
            if name not in self._files:
                self._files[name] = FILES[name].build()
            payload, f, cached = self._files[name], self.faults, self._faulted_files.get(name)
        if cached is not None:
            return cached
        # Built outside the lock (an XLSX takes a second), periods first: the department never
        # published them, so no later fault sees them.
        payload = file_without_periods(FILES[name], payload, f.drop_period,
                                           f.latest_periods_missing)
        payload = with_faults(name, payload, f.rename_field, f.duplicate_rows, f.scale_field, f.revise)
        with self._lock:
            if self.faults is f:
                self._faulted_files[name] = payload
        return payload

    def cursor_page(self, department: str, dataset: str, cursor: str | None, limit: int,
                    updated_since: str | None) -> dict:
        """A page of an incremental feed: records updated after `updated_since`, from `cursor` on."""
        content = self.content(department, dataset)
        rows = [row for raw, row in zip(content.raw, content.rows, strict=True)
                if not updated_since or raw.get("updated_at", "") > updated_since]
        start = int(base64.urlsafe_b64decode(cursor.encode()).decode()) if cursor else 0
        data = rows[start:start + limit]
        data = data[: content.duplicate_rows] + data
        more = start + limit < len(rows)
        after = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
        return {"items": data, "synthetic": True, "next_cursor": after if more else None}


def _apply_data_faults(row: dict, f: Faults) -> dict:
    for field, factor in (f.scale_field or {}).items():
        if isinstance(row.get(field), (int, float)):
            row[field] = round(row[field] * factor, 6)
    if f.revise and row.get("year") == f.revise["year"] and f.revise["field"] in row:
        row[f.revise["field"]] = round(row[f.revise["field"]] * f.revise["factor"], 6)
    for old, new in (f.rename_field or {}).items():
        if old in row:
            row[new] = row.pop(old)
    return row


def _make_handler(server: SourceServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt: str, *args) -> None:  # route to logging, not stderr
            log.debug("source-server: " + fmt, *args)

        def _send(self, status: int, body: dict | bytes, headers: dict | None = None,
                  truncate: bool = False) -> None:
            payload = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if truncate:  # promise the full length, send half, and hang up
                self.wfile.write(payload[: len(payload) // 2])
                self.close_connection = True
                return
            self.wfile.write(payload)

        def _authorised(self) -> bool:
            expected = f"Bearer {server.token}"
            if secrets.compare_digest(self.headers.get("Authorization", ""), expected):
                return True
            if server.faults.token_in_url and hostile.token_in_url(self, server.token):
                return True
            self._send(HTTPStatus.UNAUTHORIZED, {"error": "missing or wrong bearer token"})
            return False

        def do_GET(self) -> None:
            url = urlparse(self.path)
            parts = [p for p in url.path.split("/") if p]
            if parts == ["health"]:
                self._send(HTTPStatus.OK, {"status": "ok"})
                return
            if parts[:1] != ["files"] and (len(parts) < 3 or parts[:2] != ["api", "v1"]):
                self._send(HTTPStatus.NOT_FOUND, {"error": f"no route {url.path}",
                                                  "departments": sorted(DEPARTMENTS)})
                return
            faults = server.faults
            if hostile.answer_before_auth(self, faults, server.count_request) or not self._authorised():
                return
            if hostile.answer_after_auth(self, faults, server.count_request):
                return
            if parts[:1] == ["files"]:
                self._serve_file("/".join(parts[1:]))
                return
            department = parts[2]
            if department not in DEPARTMENTS:
                self._send(HTTPStatus.NOT_FOUND, {"error": f"unknown department {department}",
                                                  "departments": sorted(DEPARTMENTS)})
                return
            if len(parts) == 3:
                self._send(HTTPStatus.OK, {"department": department,
                                           "datasets": server.datasets(department)})
                return
            if department == "buildings" and parts[3:] == ["meter_days"]:
                self._serve_meter_days(parse_qs(url.query))
                return
            if department == "buildings" and parts[3:] == [meters_feed.TODAY_DATASET]:
                self._serve_meters_today(parse_qs(url.query))
                return
            dataset = parts[3]
            if dataset not in server.datasets(department):
                self._send(HTTPStatus.NOT_FOUND, {"error": f"unknown dataset {dataset}",
                                                  "datasets": server.datasets(department)})
                return
            if department in CURSOR_DEPARTMENTS:
                self._serve_cursor_page(department, dataset, parse_qs(url.query))
            else:
                self._serve_page(department, dataset, parse_qs(url.query))

        def _transport_faults(self) -> dict | None:
            """Apply this request's faults; None when the response is already decided."""
            fault = server.take_fault()
            if fault.get("stop"):
                # The department's system goes down: drop this connection, stop listening.
                self.close_connection = True
                threading.Thread(target=server.stop, daemon=True).start()
                return None
            if "delay" in fault:
                time.sleep(fault["delay"])
            if "fail" in fault:
                status, retry_after = fault["fail"]
                headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                self._send(status, {"error": "injected failure"}, headers)
                return None
            return fault

        def _not_modified(self, tag: str) -> bool:
            """Answer 304 when If-None-Match names `tag`."""
            if not _etag_matches(self.headers.get("If-None-Match"), tag):
                return False
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", tag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return True

        def _serve_meter_days(self, query: dict) -> None:
            fmt = query.get("format", ["csv"])[0]
            if fmt not in meters_feed.FORMATS:
                self._send(HTTPStatus.BAD_REQUEST, {"error": f"format {fmt!r}: expected csv or parquet"})
                return
            fault = self._transport_faults()
            if fault is None:
                return
            body = server.meters.manifest(fmt)
            tag = etag(json.dumps(body, ensure_ascii=False).encode())
            if not self._not_modified(tag):
                self._send(HTTPStatus.OK, body, {"ETag": tag}, truncate=fault.get("truncate", False))

        def _serve_meters_today(self, query: dict) -> None:
            limit = meters_feed.MAX_TODAY_PAGE_SIZE
            try:
                page = int(query.get("page", ["1"])[0])
                page_size = int(query.get("page_size", ["1000"])[0])
            except ValueError:
                page, page_size = 0, 0
            if page < 1 or not 1 <= page_size <= limit:
                self._send(HTTPStatus.BAD_REQUEST,
                           {"error": f"give integers page >= 1 and 1 <= page_size <= {limit}"})
                return
            fault = self._transport_faults()
            if fault is None:
                return
            today = server.meters.today()  # one (day, now): the body and its ETag agree
            if page == 1 and self._not_modified(today.etag):
                return
            self._send(HTTPStatus.OK, today.page(page, page_size), {"ETag": today.etag},
                       truncate=fault.get("truncate", False))

        def _serve_meter_file(self, name: str) -> None:
            day = meters_feed.parse_file_name(name)
            missing = {"error": f"no file {name}: not published as of {server.meters.as_of}",
                       "manifest": "/api/v1/buildings/meter_days"}
            if day is None or not server.meters.is_published(day[0]):
                self._send(HTTPStatus.NOT_FOUND, missing)
                return
            fault = self._transport_faults()
            if fault is None:
                return
            try:
                stream, built = server.meters.open_day(*day)
            except KeyError:  # as_of moved back meanwhile
                self._send(HTTPStatus.NOT_FOUND, missing)
                return
            with stream:
                tag = f'"{built.sha256}"'  # the manifest's sha256: a client can check one against the other
                if self._not_modified(tag):
                    return
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", meters_feed.CONTENT_TYPES[day[1]])
                self.send_header("Content-Length", str(built.size))
                self.send_header("ETag", tag)
                self.end_headers()
                if fault.get("truncate"):  # promise the full length, send half, and hang up
                    self.wfile.write(stream.read(built.size // 2))
                    self.close_connection = True
                    return
                shutil.copyfileobj(stream, self.wfile)

        def _serve_file(self, name: str) -> None:
            if name.startswith(meters_feed.FILE_PREFIX):
                self._serve_meter_file(name)
                return
            if name not in FILES:
                self._send(HTTPStatus.NOT_FOUND, {"error": f"no file {name}", "files": sorted(FILES)})
                return
            fault = self._transport_faults()
            if fault is None:
                return
            payload = server.file(name)
            tag, published = etag(payload), FILES[name].published
            if (self.headers.get("If-None-Match") == tag
                    or (self.headers.get("If-None-Match") is None
                        and self.headers.get("If-Modified-Since") == published)):
                self.send_response(HTTPStatus.NOT_MODIFIED)
                self.send_header("ETag", tag)
                self.send_header("Last-Modified", published)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", FILES[name].content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("ETag", tag)
            self.send_header("Last-Modified", published)
            self.end_headers()
            if fault.get("truncate"):
                self.wfile.write(payload[: len(payload) // 2])
                self.close_connection = True
                return
            self.wfile.write(payload)

        def _serve_cursor_page(self, department: str, dataset: str, query: dict) -> None:
            try:
                limit = int(query.get("limit", ["500"])[0])
                cursor = query.get("cursor", [None])[0]
                page = server.cursor_page(department, dataset, cursor, min(limit, MAX_PAGE_SIZE),
                                          query.get("updated_since", [None])[0])
            except ValueError:
                self._send(HTTPStatus.BAD_REQUEST, {"error": "bad cursor or limit"})
                return
            if self._transport_faults() is None:
                return
            self._send(HTTPStatus.OK, page)

        def _serve_page(self, department: str, dataset: str, query: dict) -> None:
            try:
                page = int(query.get("page", ["1"])[0])
                page_size = int(query.get("page_size", ["100"])[0])
            except ValueError:
                self._send(HTTPStatus.BAD_REQUEST, {"error": "page and page_size must be integers"})
                return
            if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
                self._send(HTTPStatus.BAD_REQUEST,
                           {"error": f"page >= 1 and 1 <= page_size <= {MAX_PAGE_SIZE}"})
                return
            # Transport faults come first: a 503 is a 503, whatever the client already holds.
            fault = self._transport_faults()
            if fault is None:
                return
            tag = server.content(department, dataset).etag
            if self._not_modified(tag):
                return
            body = server.page(department, dataset, page, page_size)
            self._send(HTTPStatus.OK, body, {"ETag": tag}, truncate=fault.get("truncate", False))

        def do_POST(self) -> None:
            path = urlparse(self.path).path
            if path not in ("/_faults", "/_meters"):
                self._send(HTTPStatus.NOT_FOUND, {"error": "only /_faults and /_meters accept POST"})
                return
            if not self._authorised():
                return
            length = int(self.headers.get("Content-Length", "0"))
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
                if path == "/_meters":
                    server.meters.set(**meters_feed.parse_settings(body))
                else:
                    server.set_faults(**body)
            except (TypeError, ValueError) as exc:
                known = ({"settings": list(meters_feed.POSTABLE)} if path == "/_meters"
                         else {"faults": list(asdict(Faults()))})
                self._send(HTTPStatus.BAD_REQUEST, {"error": str(exc), **known})
                return
            if path == "/_meters":
                self._send(HTTPStatus.OK, {"meters": server.meters.settings()})
                return
            self._send(HTTPStatus.OK, {"faults": asdict(server.faults)})

    return Handler


def _etag_matches(if_none_match: str | None, tag: str) -> bool:
    """Whether an If-None-Match header (one tag, a list, or *) names the current ETag."""
    if not if_none_match:
        return False
    given = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in given or tag in given


def export_static(folder: Path, meters: meters_feed.MetersFeed | None = None) -> list[Path]:
    """Write every dataset as the files a plain static web server can serve at the same paths.

    JSON APIs become one page holding every record (`next_page: null`): a static server ignores
    the query string, so the connector's first request gets everything. The meters' feed
    (`meters`, default the demo's) is exported too: its registers, the day so far (one page), its
    CSV manifest at `meter_days` and every published day file.
    """
    written = []
    meters = meters or meters_feed.MetersFeed()
    registers = {name: (lambda n=name: meters.register(n)) for name in meters_feed.REGISTERS}
    for department, datasets in DEPARTMENTS.items():
        extra = registers if department == "buildings" else {}
        for name, build in {**datasets, **extra}.items():
            path = folder / "api" / "v1" / department / name
            path.parent.mkdir(parents=True, exist_ok=True)
            rows = build()
            if department in CURSOR_DEPARTMENTS:
                body = {"items": rows, "next_cursor": None, "synthetic": True}
            else:
                body = {"department": department, "dataset": name, "page": 1, "page_size": len(rows),
                        "total": len(rows), "next_page": None, "synthetic": True, "data": rows}
            path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
            written.append(path)
    for name, published in FILES.items():
        path = folder / "files" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(published.build())
        written.append(path)
    today = meters.today()  # the day so far, on one page: a static server ignores the query
    path = folder / "api" / "v1" / "buildings" / meters_feed.TODAY_DATASET
    path.write_bytes(today.page(1, max(1, today.total)))
    written.append(path)
    manifest = meters.manifest("csv")
    path = folder / "api" / "v1" / "buildings" / "meter_days"
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    written.append(path)
    for entry in manifest["files"]:
        path = folder / entry["path"].lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(meters.day_bytes(dt.date.fromisoformat(entry["day"]), "csv"))
        written.append(path)
    return written
