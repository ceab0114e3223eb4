"""The building energy-monitoring platform as the source server publishes it: registers, day files.

`MetersFeed` holds what is published as of a date: one file per day of 15-minute readings
(`meters_data.write_day_files`), CSV or Parquet, listed in a manifest with each file's sha256, and
the two registers (buildings, meters). A day `d` is published as of `as_of` when
`start <= d < as_of` and `published_on(d) <= as_of`: late days are missing until `as_of` moves on,
then arrive after the days that follow them.

A day re-published with a correction carries a revision number (`revisions={day: n}`). Revision
n > 0 re-reads `REVISED_ROWS` readings of that day: each becomes a quarter of the way to the meter's
next reading, so the counter stays monotonic, the row count stays the same, and the file's bytes
and sha256 change. Which rows is a hash of (seed, day, n), so revision 2 differs from revision 1.

During day `as_of` itself the platform offers the readings so far as paged JSON
(`meter_readings_today`): the generator's rows of `as_of` up to the time of day `now` (default
12:00), in meter order. They are encoded once per (day, now) into one buffer of JSON records with
their offsets (about 1 s for 1,000 buildings at 23:45), so a page is a slice of it, not
`json.dumps` per row; the ETag is the sha256 of all of them, whatever the page size.

Files are built on first request into a private temporary folder (removed by `close()`) and cached
by (day, revision, format): about 15 ms a day-file for 20 buildings. Changing `buildings`, `seed` or
`faults` drops the files and the registers; `as_of`, `start` and `revisions` only change which
files the manifest lists. Builds run under the feed's lock: simple, and a day takes milliseconds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from source_server import SNAPSHOT_DATE
from source_server import meters_data as md

DATASET = "meter_readings"
FORMATS = ("csv", "parquet")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}
FILE_PREFIX = "buildings/meters/"  # under /files/
REGISTERS = ("monitored_buildings", "building_meters")  # paged JSON datasets of `buildings`
REVISED_ROWS = 3
START = dt.date(2026, 1, 1)
POSTABLE = ("as_of", "start", "buildings", "revisions", "now")  # what POST /_meters may change
TODAY_DATASET = "meter_readings_today"  # the readings of `as_of` so far, paged JSON
MAX_TODAY_PAGE_SIZE = 10_000
NOW = dt.time(12, 0)


@dataclass(frozen=True)
class DayFile:
    """One built day file."""

    path: Path
    sha256: str
    size: int


@dataclass(frozen=True)
class TodayReadings:
    """The readings of `day` up to `now`, as JSON records in one buffer; pages slice it."""

    day: dt.date
    now: dt.time
    records: bytes  # the records' JSON, comma-separated
    starts: np.ndarray  # offset of each record in `records`, and the end of the buffer + 1
    etag: str

    @property
    def total(self) -> int:
        return len(self.starts) - 1

    def page(self, page: int, page_size: int) -> bytes:
        """The body of one page: `{day, page, page_size, total, pages, next_page, etag, data}`."""
        pages = max(1, -(-self.total // page_size))
        first, last = min((page - 1) * page_size, self.total), min(page * page_size, self.total)
        head = json.dumps({"day": self.day.isoformat(), "page": page, "page_size": page_size,
                           "total": self.total, "pages": pages,
                           "next_page": page + 1 if page < pages else None, "etag": self.etag})
        data = self.records[self.starts[first]:self.starts[last] - 1] if last > first else b""
        return head[:-1].encode() + b', "data": [' + data + b"]}"


def encode_today(day: dt.date, now: dt.time, table: dict[str, np.ndarray]) -> TodayReadings:
    """The rows of `table` stamped up to `now` on `day`, encoded as JSON records in bulk."""
    cut = np.datetime64(day, "us") + np.timedelta64(now.hour * 60 + now.minute, "m")
    keep = table["ts"] <= cut
    quoted: dict[str, str] = {}  # a few thousand distinct ids: json.dumps once per value

    def text(values: np.ndarray) -> list[str]:
        return [quoted.get(v) or quoted.setdefault(v, json.dumps(v, ensure_ascii=False))
                for v in values[keep].tolist()]

    stamps = np.datetime_as_string(table["ts"][keep], unit="s").tolist()
    rows = [f'{{"building_id":{b},"meter_id":{m},"ts":"{t[:10]} {t[11:]}","reading":{r!r},'
            f'"unit":{u}}}'.encode()
            for b, m, t, r, u in zip(text(table["building_id"]), text(table["meter_id"]), stamps,
                                     table["reading"][keep].tolist(), text(table["unit"]),
                                     strict=True)]
    starts = np.zeros(len(rows) + 1, np.int64)
    np.cumsum([len(r) + 1 for r in rows], out=starts[1:])
    records = b",".join(rows) + b","
    return TodayReadings(day, now, records, starts,
                         '"' + hashlib.sha256(records).hexdigest()[:32] + '"')


def revise(table: dict[str, np.ndarray], day: dt.date, revision: int,
           seed: int = md.SEED) -> dict[str, np.ndarray]:
    """`table` with revision `revision`'s corrections (none for 0); see the module docstring."""
    if revision == 0 or len(table["reading"]) < 3:
        return table
    reading, meter = table["reading"].copy(), table["meter_id"]
    n = len(reading)
    digest = hashlib.sha256(f"{seed}:{day.isoformat()}:{revision}".encode()).digest()
    first, step = int.from_bytes(digest[:8], "big") % n, 7919  # a prime: spread over meters
    revised = 0
    for k in range(n):
        r = (first + k * step) % n
        if not 0 < r < n - 1 or not meter[r - 1] == meter[r] == meter[r + 1]:
            continue
        if not reading[r - 1] <= reading[r] < reading[r + 1]:  # skip resets and stuck counters
            continue
        corrected = round(float(reading[r] + 0.25 * (reading[r + 1] - reading[r])), 3)
        if corrected != reading[r]:
            reading[r] = corrected
            revised += 1
            if revised == REVISED_ROWS:
                break
    return {**table, "reading": reading}


def parse_file_name(name: str) -> tuple[dt.date, str] | None:
    """(day, format) of `buildings/meters/<YYYY-MM-DD>.<csv|parquet>`; None for any other name."""
    stem, _, fmt = name.removeprefix(FILE_PREFIX).rpartition(".")
    if not name.startswith(FILE_PREFIX) or fmt not in FORMATS:
        return None
    try:
        return dt.date.fromisoformat(stem), fmt
    except ValueError:
        return None


def _date(key: str, value: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"`{key}`: {value!r} is not a date; give YYYY-MM-DD, e.g. 2026-03-10") from None


def _time(value: object) -> dt.time:
    try:
        parsed = dt.time.fromisoformat(str(value))
    except ValueError:
        parsed = None
    if parsed is None or parsed.second or parsed.microsecond or parsed.tzinfo:
        raise ValueError(f"`now`: {value!r} is not a time of day; give HH:MM, e.g. 14:30")
    return parsed


def parse_settings(body: object) -> dict:
    """Settings for `MetersFeed.set` from a JSON body (POST /_meters); ValueError says what is wrong."""
    if not isinstance(body, dict) or set(body) - set(POSTABLE):
        raise ValueError(f"give a JSON object with some of {', '.join(POSTABLE)}, e.g. "
                         '{"as_of": "2026-03-10", "revisions": {"2026-01-05": 1}}')
    settings = {k: _date(k, v) for k, v in body.items() if k in ("as_of", "start")}
    if "buildings" in body:
        settings["buildings"] = body["buildings"]
    if "now" in body:
        settings["now"] = _time(body["now"])
    if "revisions" in body:
        if not isinstance(body["revisions"], dict):
            raise ValueError('`revisions`: give an object of day → revision, e.g. {"2026-01-05": 1}')
        settings["revisions"] = {_date("revisions", k): v for k, v in body["revisions"].items()}
    return settings


class MetersFeed:
    """The platform's published day files and registers, as of a date (thread-safe)."""

    def __init__(self, buildings: int = 20, start: dt.date = START, as_of: dt.date = SNAPSHOT_DATE,
                 seed: int = md.SEED, faults: md.Faults = md.DEFAULT_FAULTS,
                 revisions: Mapping[dt.date, int] | None = None, now: dt.time = NOW) -> None:
        self._lock = threading.RLock()
        self._folder: Path | None = None
        self._generation = 0  # a new sub-folder after each drop: open files are never overwritten
        self._files: dict[tuple[dt.date, int, str], DayFile] = {}
        self._registers: dict[str, list[dict]] = {}
        self._today: TodayReadings | None = None  # the latest (as_of, now) asked for
        self.version = 0  # goes up on every `set`: the server re-pages the registers
        self.buildings, self.start, self.as_of, self.seed, self.faults = 0, start, as_of, seed, faults
        self.revisions: dict[dt.date, int] = {}
        self.now = now
        self.set(buildings=buildings, start=start, as_of=as_of, seed=seed, faults=faults,
                 revisions=revisions or {}, now=now)

    def set(self, *, as_of: dt.date | None = None, revisions: Mapping[dt.date, int] | None = None,
            buildings: int | None = None, start: dt.date | None = None, seed: int | None = None,
            faults: md.Faults | None = None, now: dt.time | None = None) -> None:
        """Change settings (None keeps one); `revisions` replaces the whole mapping."""
        if now is not None and not isinstance(now, dt.time):
            raise ValueError(f"`now`: {now!r} is not a time of day")
        if buildings is not None and (isinstance(buildings, bool) or not isinstance(buildings, int)
                                      or buildings < 1):
            raise ValueError(f"`buildings`: {buildings!r}; give a whole number of at least 1")
        for key, value in (("as_of", as_of), ("start", start)):
            if value is not None and not isinstance(value, dt.date):
                raise ValueError(f"`{key}`: {value!r} is not a date")
        for day, n in (revisions or {}).items():
            if not isinstance(day, dt.date) or isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise ValueError(f"`revisions`: {day!r}: {n!r}; give a day and a revision 0, 1, 2 …")
        with self._lock:
            data = {"buildings": self.buildings, "seed": self.seed, "faults": self.faults}
            self.as_of = as_of or self.as_of
            self.start = start or self.start
            self.buildings = buildings or self.buildings
            self.seed = self.seed if seed is None else seed
            self.faults = faults or self.faults
            self.now = now or self.now
            if revisions is not None:
                self.revisions = dict(revisions)
            if data != {"buildings": self.buildings, "seed": self.seed, "faults": self.faults}:
                self._drop()
            self.version += 1

    def _drop(self) -> None:
        self._files.clear()
        self._registers.clear()
        self._today = None
        if self._folder is not None:
            shutil.rmtree(self._folder / str(self._generation), ignore_errors=True)
        self._generation += 1

    def close(self) -> None:
        """Remove the built files (a later request builds them again)."""
        with self._lock:
            self._drop()
            if self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)
                self._folder = None

    # -- what is published ------------------------------------------------------------------
    def published_on(self, day: dt.date) -> dt.date:
        return md.published_on(day, self.seed, self.faults)

    def days(self) -> list[dt.date]:
        """The days published as of `as_of`, in day order."""
        with self._lock:
            days = (self.start + dt.timedelta(days=k) for k in range(max(0, (self.as_of - self.start).days)))
            return [d for d in days if self.published_on(d) <= self.as_of]

    def is_published(self, day: dt.date) -> bool:
        with self._lock:
            return self.start <= day < self.as_of and self.published_on(day) <= self.as_of

    def _day_file(self, day: dt.date, fmt: str) -> DayFile:
        """The file of a published day (KeyError otherwise), built on first use; call under the lock."""
        if fmt not in FORMATS or not self.is_published(day):
            raise KeyError(f"no {fmt} file for {day}: not published as of {self.as_of}")
        revision = self.revisions.get(day, 0)
        key = (day, revision, fmt)
        if key not in self._files:
            if self._folder is None:
                self._folder = Path(tempfile.mkdtemp(prefix="carbonpeak-meters-"))
            table = revise(md.day_readings(day, self.buildings, self.seed, self.faults), day, revision,
                           self.seed)
            folder = self._folder / str(self._generation) / f"r{revision}"
            (path,) = md.write_day_files(day, folder, self.buildings, self.seed, self.faults, (fmt,),
                                         readings=table)
            with path.open("rb") as stream:
                sha256 = hashlib.file_digest(stream, "sha256").hexdigest()
            self._files[key] = DayFile(path, sha256, path.stat().st_size)
        return self._files[key]

    def day_file(self, day: dt.date, fmt: str) -> DayFile:
        with self._lock:
            return self._day_file(day, fmt)

    def open_day(self, day: dt.date, fmt: str) -> tuple[BinaryIO, DayFile]:
        """The open file and its facts: a later `set` cannot remove it under the reader."""
        with self._lock:
            built = self._day_file(day, fmt)
            return built.path.open("rb"), built

    def day_bytes(self, day: dt.date, fmt: str) -> bytes:
        stream, _ = self.open_day(day, fmt)
        with stream:
            return stream.read()

    def manifest(self, fmt: str = "csv") -> dict:
        if fmt not in FORMATS:
            raise ValueError(f"`format`: {fmt!r}; expected one of {', '.join(FORMATS)}")
        with self._lock:
            files = []
            for day in self.days():
                built = self._day_file(day, fmt)
                files.append({"day": day.isoformat(), "path": f"/files/{FILE_PREFIX}{day}.{fmt}",
                              "sha256": built.sha256, "bytes": built.size,
                              "published_on": self.published_on(day).isoformat()})
            return {"dataset": DATASET, "format": fmt, "as_of": self.as_of.isoformat(), "files": files}

    def today(self) -> TodayReadings:
        """The readings of `as_of` up to `now`, built on first use of each (day, now)."""
        with self._lock:
            day, now = self.as_of, self.now
            if self._today is None or (self._today.day, self._today.now) != (day, now):
                self._today = None  # let the old buffer go before building the new one
                table = md.day_readings(day, self.buildings, self.seed, self.faults)
                self._today = encode_today(day, now, table)
            return self._today

    def register(self, name: str) -> list[dict]:
        """`monitored_buildings` or `building_meters` as JSON-safe records."""
        with self._lock:
            if name not in self._registers:
                if name == "monitored_buildings":
                    rows = md.building_register(self.buildings, self.seed)
                    rows = [{**r, "monitoring_since": r["monitoring_since"].isoformat()} for r in rows]
                elif name == "building_meters":
                    rows = md.meter_register(self.buildings, self.seed)
                else:
                    raise KeyError(name)
                self._registers[name] = rows
            return self._registers[name]

    def settings(self) -> dict:
        """The settings as JSON (the answer to POST /_meters)."""
        with self._lock:
            return {"buildings": self.buildings, "start": self.start.isoformat(),
                    "as_of": self.as_of.isoformat(), "seed": self.seed,
                    "revisions": {d.isoformat(): n for d, n in sorted(self.revisions.items())},
                    "now": self.now.strftime("%H:%M")}
