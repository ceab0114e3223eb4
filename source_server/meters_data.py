"""Deterministic 15-minute readings of the building energy-monitoring platform (建筑能耗监测平台).

The housing bureau (住建局) monitors public buildings in Mianyang's 9 counties. Everything here is
synthetic: buildings, meters and loads come from a splitmix64 hash of (seed, key, …), no random
state, so a building, a meter or a meter-day is the same whatever `buildings` is (a smaller
register is a prefix of a larger one) and whichever day is asked first.

* `building_register(buildings, seed)` → list of dicts: building_id ("MY-B0001"), county, use
  (办公/商业/医院/学校/酒店/其他), floor_area_m2, is_public_institution, monitoring_since (date,
  2016–2023; a building has no readings before it).
* `meter_register(buildings, seed)` → list of dicts: meter_id ("MY-B0001-E01"), building_id, kind,
  unit. Every building has the 10 meters of `METERS`: electricity (lighting ×2, hvac ×2, power ×2,
  special) in kWh, gas and water in m³, heat (hot water) in GJ.
* `day_readings(day, buildings, seed, faults)` → dict of numpy arrays (pyarrow is not installed):
  building_id, meter_id, unit (object arrays of str), ts (datetime64[us], **naive Asia/Shanghai
  local time**, UTC+8 without DST), reading (float64, the **cumulative counter** at ts, rounded to
  0.001 of the unit). Rows are ordered by meter, then ts; 00:00 … 23:45 (96 per meter and day).
  `build_day` returns the same table plus a `FaultLog` of what was injected.
* `write_day_files(day, folder, …)` writes `meters_<YYYY-MM-DD>.csv` (UTF-8, header, `2024-03-01
  00:15:00` timestamps) and `.parquet` through DuckDB and returns their paths.
* `published_on(day)` / `late_days(start, end)`: normally a day's file appears the next day;
  late days appear 2–6 days later, i.e. after (some of) the days that follow them.

Loads: annual intensities per use (`INTENSITY`, e.g. 办公 85, 商业 210 kWh/m²·a) × a building factor
0.6–1.4, spread over days by weekday/weekend, season (cooling peak late July, heating mid-January)
and school vacations, and over the day by the use's opening hours. Electricity stays within
0 < kW/m² ≤ `MAX_KW_PER_M2` per 15 minutes and the building's daily mean within `DAILY_KW_PER_M2`.
Counters are continuous across days: the first reading of day d+1 continues the last of day d.

Faults (`Faults`, default `DEFAULT_FAULTS`; `NO_FAULTS` switches them off). Gap, duplicate, clock
shift and stuck exclude each other on a meter-day (one hash band each); on a reset day a meter has
no gap and is not stuck. `FaultLog` timestamps are the published ones (clock shift included).

* gaps, 2 % of meter-days: one outage of 1–16 consecutive intervals (rows missing);
* resets, one per meter every 2,000 days (periodic per meter): the counter restarts from 0 after
  an interval's reading, so the first reading after it is ~one interval's consumption; later days
  continue from the reset counter;
* duplicates, 1 % of meter-days: one interval published twice, right after the original; half
  with the same value, half with a re-read value slightly higher;
* clock shifts, 0.2 % of meter-days: all of the meter's timestamps that day are ±1 hour off (a +1 h
  day ends at 00:45 of the next day, overlapping the next file);
* stuck meters, 0.2 % of meter-days: the counter stays at its 00:00 value all day (zero
  consumption), then jumps back to the true value the next day;
* late days, 5 % of days: published 2–6 days after the day instead of the next day.

Why ~350 lines: the load model, six faults and their bookkeeping must agree row for row, so they
stay in one file; `build_day` is long because every fault is a few vectorised lines.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import duckdb
import numpy as np

SEED = 13
EPOCH = dt.date(2016, 1, 1)  # first day the platform can have readings
LAST_DAY = dt.date(2040, 12, 31)
INTERVALS = 96  # 15-minute readings a day
COUNTIES = ["涪城区", "游仙区", "安州区", "江油市", "三台县", "盐亭县", "梓潼县", "北川羌族自治县", "平武县"]
COUNTY_WEIGHTS = [0.26, 0.16, 0.10, 0.15, 0.11, 0.06, 0.06, 0.05, 0.05]
USES = ["办公", "商业", "医院", "学校", "酒店", "其他"]
USE_WEIGHTS = [0.30, 0.16, 0.08, 0.24, 0.10, 0.12]
FLOOR_AREA_M2 = [(3e3, 4e4), (5e3, 8e4), (1e4, 1e5), (5e3, 6e4), (5e3, 5e4), (2e3, 3e4)]  # log-uniform
PUBLIC_INSTITUTION_SHARE = [0.7, 0.0, 0.9, 0.95, 0.05, 0.3]
# Per use: electricity kWh/m²·a, gas m³/m²·a, water m³/m²·a, heat GJ/m²·a (plausible for Sichuan).
INTENSITY = [(85, 1.0, 1.0, 0.02), (210, 3.0, 1.3, 0.03), (170, 10.0, 3.5, 0.20), (40, 2.0, 1.5, 0.02),
             (130, 12.0, 3.0, 0.25), (70, 1.5, 1.0, 0.03)]
# Per use: opening hour, closing hour, night level, weekend level of the daytime load.
HOURS = [(8, 18, 0.15, 0.25), (10, 22, 0.10, 1.15), (7, 20, 0.55, 0.85), (8, 17, 0.08, 0.15),
         (6, 23, 0.45, 1.05), (8, 18, 0.20, 0.40)]
KINDS = ["electricity_lighting", "electricity_hvac", "electricity_power", "electricity_special", "gas",
         "water", "heat"]
# kind index, intensity column, share of that intensity, unit
KIND_SPEC = [(0, 0.25, "kWh"), (0, 0.40, "kWh"), (0, 0.25, "kWh"), (0, 0.10, "kWh"), (1, 1.0, "m³"),
             (2, 1.0, "m³"), (3, 1.0, "GJ")]
METERS = [("E01", 0), ("E02", 0), ("E03", 1), ("E04", 1), ("E05", 2), ("E06", 2), ("E07", 3),
          ("G01", 4), ("W01", 5), ("H01", 6)]  # (suffix, kind index) of every building's meters
MAX_KW_PER_M2 = 0.15
DAILY_KW_PER_M2 = (0.0002, 0.08)  # a school on a vacation weekend … a mall in July
INTERVAL_NOISE = 0.3  # ± relative noise of each 15-minute increment


@dataclass(frozen=True)
class Faults:
    """Fault rates; see the module docstring for what each fault does."""

    gap_rate: float = 0.02  # share of meter-days
    reset_rate: float = 1 / 2000  # resets per meter-day
    duplicate_rate: float = 0.01
    clock_shift_rate: float = 0.002
    stuck_rate: float = 0.002
    late_rate: float = 0.05  # share of days


DEFAULT_FAULTS = Faults()
NO_FAULTS = Faults(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class FaultLog:
    """What `build_day` injected; `expected_rows` = meters × 96 − len(missing) + len(duplicates)."""

    meters: int
    expected_rows: int
    missing: list[tuple[str, dt.datetime]]
    duplicates: list[tuple[str, dt.datetime, bool]]  # (meter_id, ts, same value?)
    resets: list[tuple[str, dt.datetime]]  # first reading after the reset
    clock_shifts: dict[str, int]  # meter_id → hours
    stuck: list[str]


@dataclass(frozen=True)
class MeterDay:
    """One day's readings and their fault bookkeeping."""

    table: dict[str, np.ndarray]
    faults: FaultLog


def _hash(*keys) -> np.ndarray:
    """Deterministic uint64 hashes of non-negative integer keys (arrays broadcast; splitmix64 per key)."""
    x = np.zeros(np.broadcast_shapes(*(np.shape(k) for k in keys)), dtype=np.uint64)
    with np.errstate(over="ignore"):  # the mixer relies on wrap-around (numpy only warns for scalars)
        for key in keys:
            x = x + np.asarray(key).astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
            x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            x = x ^ (x >> np.uint64(31))
    return x


def _unit(*keys) -> np.ndarray:
    """Deterministic floats in [0, 1) from integer keys."""
    return (_hash(*keys) >> np.uint64(11)).astype(np.float64) / 2.0**53


def _bump(x: np.ndarray, centre: float, width: float, period: float) -> np.ndarray:
    d = np.abs(x - centre) % period
    return np.exp(-((np.minimum(d, period - d) / width) ** 2))


@lru_cache(maxsize=1)
def _shapes() -> np.ndarray:
    """Unnormalised load per (use, kind, weekend, interval)."""
    hour = (np.arange(INTERVALS) + 0.5) / 4
    out = np.empty((len(USES), len(KINDS), 2, INTERVALS))
    for u, (open_h, close_h, night, weekend) in enumerate(HOURS):
        window = 1 / (1 + np.exp(-3 * (hour - open_h))) / (1 + np.exp(-3 * (close_h - hour)))
        for w, level in enumerate((1.0, weekend)):
            occupancy = night + (1 - night) * window * level
            meals = 0.15 + level * (0.5 * _bump(hour, 7, 1, 24) + _bump(hour, 12, 1, 24)
                                    + _bump(hour, 18, 1, 24))
            out[u, :, w] = [occupancy, occupancy, occupancy, 0.5 + 0.5 * occupancy, meals, occupancy,
                            0.2 + (_bump(hour, 7, 1.5, 24) + _bump(hour, 20, 2, 24)) * max(level, 0.5)]
    return out


@lru_cache(maxsize=1)
def _daily() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Relative daily energy f[group, day] (mean 1), its prefix sums, and each group's noise amplitude."""
    dates = np.datetime64(EPOCH) + np.arange((LAST_DAY - EPOCH).days + 2)
    doy = (dates - dates.astype("datetime64[Y]")).astype(np.int64)
    weekend = (dates.astype(np.int64) + 3) % 7 >= 5  # 1970-01-01 was a Thursday
    vacation = (((doy >= 190) & (doy < 244)) | ((doy >= 14) & (doy < 50)))  # school holidays
    season = [1 + 0.1 * np.cos(2 * np.pi * (doy - 355) / 365),  # longer nights in winter
              0.35 + 1.3 * _bump(doy, 205, 35, 365) + 0.7 * _bump(doy, 15, 30, 365),
              np.ones(len(doy)), np.ones(len(doy)), 1 + 0.5 * np.cos(2 * np.pi * (doy - 15) / 365),
              1 + 0.2 * np.cos(2 * np.pi * (doy - 200) / 365), 1 + 0.6 * np.cos(2 * np.pi * (doy - 15) / 365)]
    day_sum = _shapes().sum(axis=3)  # (use, kind, weekend)
    f = np.empty((len(USES) * len(KINDS), len(dates)))
    for u in range(len(USES)):
        for k in range(len(KINDS)):
            row = day_sum[u, k, weekend.astype(int)] * season[k]
            if USES[u] == "学校" and KINDS[k] != "electricity_special":
                row = row * np.where(vacation, 0.3, 1.0)
            f[u * len(KINDS) + k] = row / row.mean()
    cum = np.concatenate([np.zeros((len(f), 1)), np.cumsum(f, axis=1)], axis=1)
    return f, cum, 0.3 * f.min(axis=1)


def _buildings(n: int, seed: int) -> dict[str, np.ndarray]:
    k = np.arange(n)
    use = np.searchsorted(np.cumsum(USE_WEIGHTS), _unit(seed, k, 1), side="right").clip(0, len(USES) - 1)
    low, high = np.array(FLOOR_AREA_M2)[use].T
    return {
        "county": np.searchsorted(np.cumsum(COUNTY_WEIGHTS), _unit(seed, k, 2), side="right").clip(0, 8),
        "use": use, "area": np.round(low * (high / low) ** _unit(seed, k, 3), -1),
        "public": _unit(seed, k, 4) < np.array(PUBLIC_INSTITUTION_SHARE)[use],
        "since": (_unit(seed, k, 5) * 8 * 365.25).astype(np.int64),  # days after EPOCH
        "factor": 0.6 + 0.8 * _unit(seed, k, 6),
    }


def building_register(buildings: int = 1000, seed: int = SEED) -> list[dict]:
    """The monitored buildings, "MY-B0001" first."""
    b = _buildings(buildings, seed)
    return [{"building_id": f"MY-B{i + 1:04d}", "county": COUNTIES[b["county"][i]], "use": USES[b["use"][i]],
             "floor_area_m2": float(b["area"][i]), "is_public_institution": bool(b["public"][i]),
             "monitoring_since": EPOCH + dt.timedelta(days=int(b["since"][i]))} for i in range(buildings)]


def meter_register(buildings: int = 1000, seed: int = SEED) -> list[dict]:
    """The sub-meters of every building, in the order of `day_readings`."""
    return [{"meter_id": f"MY-B{i + 1:04d}-{suffix}", "building_id": f"MY-B{i + 1:04d}", "kind": KINDS[kind],
             "unit": KIND_SPEC[kind][2]} for i in range(buildings) for suffix, kind in METERS]


def _meters(buildings: int, seed: int) -> dict[str, np.ndarray]:
    b = _buildings(buildings, seed)
    building = np.repeat(np.arange(buildings), len(METERS))
    kind = np.tile([kind for _, kind in METERS], buildings)
    column, share = (np.array([spec[c] for spec in KIND_SPEC])[kind] for c in (0, 1))
    per_kind = np.bincount([kind for _, kind in METERS])[kind]
    index = np.arange(len(building))
    annual = np.array(INTENSITY)[b["use"][building], column] * b["area"][building] * b["factor"][building]
    return {"index": index, "building": building, "kind": kind, "use": b["use"][building],
            "since": b["since"][building], "offset": np.round(_unit(seed, index, 7) * 5e4, 3),
            "daily": annual * share / per_kind * (0.8 + 0.4 * _unit(seed, index, 8)) / 365}


def _counter(m: dict[str, np.ndarray], rows: np.ndarray, d: np.ndarray, seed: int) -> np.ndarray:
    """The true counter (no resets) of meters `rows` at 00:00, 00:15 … 24:00 of their days `d`."""
    f, cum, amp = _daily()
    g = m["use"][rows] * len(KINDS) + m["kind"][rows]
    daily, since, key = m["daily"][rows], m["since"][rows], m["index"][rows]
    h0, h1, hs = _unit(seed, key, d, 1), _unit(seed, key, d + 1, 1), _unit(seed, key, since, 1)
    start = m["offset"][rows] + daily * (cum[g, d] - cum[g, since] + amp[g] * (h0 - hs))
    total = daily * (f[g, d] + amp[g] * (h1 - h0))  # telescoping noise keeps days continuous
    weekend = ((np.datetime64(EPOCH) + d).astype(np.int64) + 3) % 7 >= 5
    noise = _unit(_hash(seed, key, d, 2)[:, None], np.arange(INTERVALS)) - 0.5
    w = _shapes()[m["use"][rows], m["kind"][rows], weekend.astype(int)] * (1 + INTERVAL_NOISE * noise)
    frac = np.concatenate([np.zeros((len(rows), 1)), np.cumsum(w, axis=1)], axis=1) / w.sum(axis=1)[:, None]
    return start[:, None] + total[:, None] * frac


def build_day(day: dt.date, buildings: int = 1000, seed: int = SEED,
              faults: Faults = DEFAULT_FAULTS) -> MeterDay:
    """All readings of `day` for the first `buildings` buildings, with the injected faults."""
    t = (day - EPOCH).days
    if not 0 <= t <= (LAST_DAY - EPOCH).days:
        raise ValueError(f"`day` {day} is outside the platform's range {EPOCH} … {LAST_DAY}")
    m = _meters(buildings, seed)
    m = {name: values[m["since"] <= t] for name, values in m.items()}  # monitored meters
    n, rows, d = len(m["index"]), np.arange(len(m["index"])), np.full(len(m["index"]), t)
    counter = _counter(m, rows, d, seed)
    readings = counter[:, :INTERVALS].copy()
    reset_today, j = np.zeros(n, bool), 1 + (_unit(seed, m["index"], t, 3) * 95).astype(np.int64)
    if faults.reset_rate > 0:
        period = max(2, round(1 / faults.reset_rate))
        phase = (_unit(seed, m["index"], 0, 9) * period).astype(np.int64)
        reset_today = ((t + phase) % period == 0) & (m["since"] < t)
        prev = t - (t + phase) % period - np.where(reset_today, period, 0)
        had = np.flatnonzero(prev > m["since"])
        j_prev = 1 + (_unit(seed, m["index"][had], prev[had], 3) * 95).astype(np.int64)
        readings[had] -= _counter(m, had, prev[had], seed)[np.arange(len(had)), j_prev - 1][:, None]
        for r in np.flatnonzero(reset_today):  # a handful of meters a day
            readings[r, j[r]:] = counter[r, j[r]:INTERVALS] - counter[r, j[r] - 1]
    readings = np.round(readings, 3)
    band = _unit(seed, m["index"], t, 4)
    edges = np.cumsum([faults.gap_rate, faults.duplicate_rate, faults.clock_shift_rate, faults.stuck_rate])
    kind = np.searchsorted(edges, band, side="right")  # 0 gap, 1 duplicate, 2 clock shift, 3 stuck, 4 none
    kind[reset_today & ((kind == 0) | (kind == 3))] = 4
    where = (_unit(seed, m["index"], t, 5) * INTERVALS).astype(np.int64)  # gap start, duplicated interval
    length = _unit(seed, m["index"], t, 6)  # gap length; duplicate same value?; shift direction
    stuck = np.flatnonzero(kind == 3)
    readings[stuck] = readings[stuck, :1]
    counts = np.ones((n, INTERVALS), np.int64)
    gap = np.flatnonzero(kind == 0)
    gap_len = 1 + (length[gap] * 16).astype(np.int64)
    gap_cells = [(r, i) for r, s, ln in zip(gap, where[gap], gap_len, strict=True)
                 for i in range(s, min(s + ln, INTERVALS))]
    if gap_cells:
        counts[tuple(np.array(gap_cells).T)] = 0
    dup = np.flatnonzero(kind == 1)
    counts[dup, where[dup]] += 1
    same = length < 0.5
    step = np.diff(counter, axis=1)[np.arange(n), where]
    extra = np.where(same, 0.0, np.round(0.5 * step + 0.001, 3))
    shift = np.where(kind == 2, np.where(length < 0.5, 60, -60), 0)

    idx = np.repeat(np.arange(n * INTERVALS), counts.ravel())
    meter, interval = idx // INTERVALS, idx % INTERVALS
    second = np.zeros(len(idx), bool)
    second[1:] = idx[1:] == idx[:-1]
    reading = readings.ravel()[idx]
    reading[second] = np.round(reading[second] + extra[meter[second]], 3)
    ts_of = np.datetime64(day, "us") + np.timedelta64(15, "m") * np.arange(INTERVALS)
    shift_td = shift.astype("timedelta64[m]")
    building_ids = np.array([f"MY-B{b + 1:04d}" for b in range(buildings)], dtype=object)
    meter_ids = np.array([f"{building_ids[b]}-{METERS[s][0]}" for b, s in
                          zip(m["building"], m["index"] % len(METERS), strict=True)], dtype=object)
    units = np.array([KIND_SPEC[k][2] for k in range(len(KINDS))], dtype=object)
    table = {"building_id": building_ids[m["building"]][meter], "meter_id": meter_ids[meter],
             "ts": ts_of[interval] + shift_td[meter], "reading": reading, "unit": units[m["kind"]][meter]}

    def stamp(r: int, i: int) -> dt.datetime:
        return (ts_of[i] + shift_td[r]).item()

    log = FaultLog(
        meters=n, expected_rows=int(counts.sum()),
        missing=[(meter_ids[r], stamp(r, i)) for r, i in gap_cells],
        duplicates=[(meter_ids[r], stamp(r, where[r]), bool(same[r])) for r in dup],
        resets=[(meter_ids[r], stamp(r, j[r])) for r in np.flatnonzero(reset_today)],
        clock_shifts={meter_ids[r]: int(shift[r]) // 60 for r in np.flatnonzero(kind == 2)},
        stuck=[meter_ids[r] for r in stuck])
    return MeterDay(table, log)


def day_readings(day: dt.date, buildings: int = 1000, seed: int = SEED,
                 faults: Faults = DEFAULT_FAULTS) -> dict[str, np.ndarray]:
    """The readings table of `day` (see the module docstring for its columns)."""
    return build_day(day, buildings, seed, faults).table


def published_on(day: dt.date, seed: int = SEED, faults: Faults = DEFAULT_FAULTS) -> dt.date:
    """The day `day`'s file is published: the next day, or 2–6 days later for a late day."""
    t = (day - EPOCH).days
    late = float(_unit(seed, t, 10)) < faults.late_rate
    return day + dt.timedelta(days=2 + int(_unit(seed, t, 11) * 5) if late else 1)


def late_days(start: dt.date, end: dt.date, seed: int = SEED,
              faults: Faults = DEFAULT_FAULTS) -> list[tuple[dt.date, dt.date]]:
    """(day, published_on) of the late days in `start` … `end`."""
    days = (start + dt.timedelta(days=k) for k in range((end - start).days + 1))
    return [(day, published_on(day, seed, faults)) for day in days
            if published_on(day, seed, faults) > day + dt.timedelta(days=1)]


def write_day_files(day: dt.date, folder: Path, buildings: int = 1000, seed: int = SEED,
                    faults: Faults = DEFAULT_FAULTS,
                    formats: tuple[str, ...] = ("csv", "parquet"),
                    readings: dict[str, np.ndarray] | None = None) -> list[Path]:
    """Write `meters_<day>.csv` / `.parquet` into `folder` and return their paths.

    `readings` is the table to write when it is not `day_readings(day, …)` (a revised day).
    """
    unknown = set(formats) - {"csv", "parquet"}
    if unknown:
        raise ValueError(f"`formats`: unknown {sorted(unknown)}; expected csv or parquet")
    if readings is None:
        readings = day_readings(day, buildings, seed, faults)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    with duckdb.connect() as con:
        con.register("readings", readings)
        for fmt in formats:
            path = folder / f"meters_{day.isoformat()}.{fmt}"
            options = "format parquet" if fmt == "parquet" else "format csv, header true"
            target = path.as_posix().replace("'", "''")  # a folder name is text, not SQL
            con.execute(f"copy (select building_id, meter_id, ts, reading, unit from readings) "
                        f"to '{target}' ({options})")
            paths.append(path)
    return paths
