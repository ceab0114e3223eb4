"""Building energy-meter readings (建筑能耗监测平台): determinism, fault bookkeeping, files, plausibility."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import duckdb
import numpy as np
import pytest

from source_server import meters_data as md

DAY = dt.date(2024, 7, 24)  # a Wednesday in the cooling season
BUILDINGS = 20
# High rates so that every fault shows up among 200 meters on one day.
FAULTY = md.Faults(gap_rate=0.1, reset_rate=0.05, duplicate_rate=0.1, clock_shift_rate=0.05,
                   stuck_rate=0.05, late_rate=0.3)


@pytest.fixture(scope="module")
def faulty_day() -> md.MeterDay:
    return md.build_day(DAY, BUILDINGS, faults=FAULTY)


def _stamp(value: np.datetime64) -> dt.datetime:
    return value.astype("datetime64[us]").item()


def test_same_seed_same_table_and_a_smaller_register_is_a_prefix():
    first, again = md.day_readings(DAY, BUILDINGS), md.day_readings(DAY, BUILDINGS)
    assert first.keys() == again.keys() == {"building_id", "meter_id", "ts", "reading", "unit"}
    for name in first:
        assert np.array_equal(first[name], again[name])
    small = md.day_readings(DAY, 10, faults=md.NO_FAULTS)
    large = md.day_readings(DAY, 20, faults=md.NO_FAULTS)
    assert np.array_equal(small["reading"], large["reading"][:len(small["reading"])])
    assert md.building_register(5) == md.building_register(10)[:5]


def test_other_day_or_seed_gives_other_values():
    base = md.day_readings(DAY, BUILDINGS, faults=md.NO_FAULTS)["reading"]
    next_day = md.day_readings(DAY + dt.timedelta(days=1), BUILDINGS, faults=md.NO_FAULTS)["reading"]
    other_seed = md.day_readings(DAY, BUILDINGS, seed=99, faults=md.NO_FAULTS)["reading"]
    assert len(base) == len(next_day) and not np.array_equal(base, next_day)
    assert not np.array_equal(base, other_seed[:len(base)])


def test_registers():
    buildings = md.building_register(200)
    assert buildings[0]["building_id"] == "MY-B0001" and buildings[-1]["building_id"] == "MY-B0200"
    assert {b["county"] for b in buildings} == set(md.COUNTIES)
    assert {b["use"] for b in buildings} == set(md.USES)
    assert all(1_000 <= b["floor_area_m2"] <= 100_000 for b in buildings)
    assert all(md.EPOCH <= b["monitoring_since"] <= dt.date(2023, 12, 31) for b in buildings)
    assert any(b["is_public_institution"] for b in buildings) and not all(b["is_public_institution"]
                                                                         for b in buildings)
    meters = md.meter_register(BUILDINGS)
    assert len(meters) == BUILDINGS * 10 and meters[0]["meter_id"] == "MY-B0001-E01"
    assert Counter(m["unit"] for m in meters) == {"kWh": 7 * BUILDINGS, "m³": 2 * BUILDINGS, "GJ": BUILDINGS}
    table = md.day_readings(DAY, BUILDINGS, faults=md.NO_FAULTS)  # all 20 monitored by 2024
    assert list(table["meter_id"][::96]) == [m["meter_id"] for m in meters]


def test_row_count_follows_the_fault_bookkeeping(faulty_day):
    log, table = faulty_day.faults, faulty_day.table
    assert log.meters == BUILDINGS * 10
    expected = log.meters * 96 - len(log.missing) + len(log.duplicates)
    assert len(table["reading"]) == log.expected_rows == expected
    assert all(len(column) == log.expected_rows for column in table.values())


def test_every_fault_is_present(faulty_day):
    log = faulty_day.faults
    assert log.missing and log.duplicates and log.resets and log.clock_shifts and log.stuck
    assert {same for _, _, same in log.duplicates} == {True, False}
    assert set(log.clock_shifts.values()) <= {-1, 1}
    default = md.build_day(DAY, 1000).faults  # the default rates on 10,000 meters
    assert 50 < len({m for m, _ in default.missing}) < 400 and 50 < len(default.duplicates) < 200
    assert 0 < len(default.resets) < 20 and 5 < len(default.stuck) < 50 and 5 < len(default.clock_shifts) < 50


def test_missing_and_duplicated_pairs_are_exactly_the_logged_ones(faulty_day):
    log, table = faulty_day.faults, faulty_day.table
    pairs = Counter(zip(table["meter_id"], (_stamp(t) for t in table["ts"]), strict=True))
    assert {pair for pair, count in pairs.items() if count == 2} == {(m, ts) for m, ts, _ in log.duplicates}
    assert max(pairs.values()) == 2
    assert not set(log.missing) & set(pairs)
    assert len(pairs) == log.meters * 96 - len(log.missing)
    values = {}
    for meter, ts, reading in zip(table["meter_id"], table["ts"], table["reading"], strict=True):
        values.setdefault((meter, _stamp(ts)), []).append(reading)
    for meter, ts, same in log.duplicates:
        first, second = values[(meter, ts)]
        assert (first == second) == same and second >= first


def test_clock_shifts_and_stuck_meters_are_the_logged_ones(faulty_day):
    log, table = faulty_day.faults, faulty_day.table
    start = np.datetime64(DAY, "us")
    outside = (table["ts"] < start) | (table["ts"] > start + np.timedelta64(1425, "m"))
    assert set(table["meter_id"][outside]) == set(log.clock_shifts)
    for meter, hours in log.clock_shifts.items():
        assert table["ts"][table["meter_id"] == meter].min() == start + np.timedelta64(hours, "h")
    spread = {}
    for meter, reading in zip(table["meter_id"], table["reading"], strict=True):
        low, high = spread.get(meter, (reading, reading))
        spread[meter] = (min(low, reading), max(high, reading))
    assert {meter for meter, (low, high) in spread.items() if low == high} == set(log.stuck)


def test_counters_only_drop_at_the_logged_resets(faulty_day):
    log, table = faulty_day.faults, faulty_day.table
    meters, ts, reading = table["meter_id"], table["ts"], table["reading"]
    first_copy = np.ones(len(meters), bool)
    first_copy[1:] = (meters[1:] != meters[:-1]) | (ts[1:] != ts[:-1])
    meters, ts, reading = meters[first_copy], ts[first_copy], reading[first_copy]
    same_meter = meters[1:] == meters[:-1]
    assert (ts[1:][same_meter] > ts[:-1][same_meter]).all()
    drops = same_meter & (reading[1:] < reading[:-1])
    assert {(m, _stamp(t)) for m, t in zip(meters[1:][drops], ts[1:][drops], strict=True)} == set(log.resets)
    after_reset = reading[1:][drops]
    assert (after_reset < 50).all()  # restarted near zero: one interval's consumption


def test_counters_continue_across_days_and_resets():
    resets = md.Faults(reset_rate=0.05, gap_rate=0, duplicate_rate=0, clock_shift_rate=0, stuck_rate=0)
    days = [md.build_day(DAY + dt.timedelta(days=k), BUILDINGS, faults=resets) for k in range(3)]
    assert any(day.faults.resets for day in days)
    for today, tomorrow in zip(days, days[1:], strict=False):
        last = today.table["reading"].reshape(-1, 96)[:, -1]
        first = tomorrow.table["reading"].reshape(-1, 96)[:, 0]
        step = first - last  # the 23:45–24:00 interval
        typical = np.diff(today.table["reading"].reshape(-1, 96), axis=1).max(axis=1)
        assert (step >= 0).all() and (step <= 2 * typical + 0.002).all()


def test_electricity_is_plausible_per_square_metre():
    register = {b["building_id"]: b for b in md.building_register(60)}
    for day in (DAY, dt.date(2024, 1, 13), dt.date(2024, 4, 15)):  # summer weekday, winter Saturday, spring
        table = md.day_readings(day, 60, faults=md.NO_FAULTS)
        readings = table["reading"].reshape(-1, 96)
        kwh = table["unit"][::96] == "kWh"
        buildings = table["building_id"][::96][kwh]
        load = np.diff(readings[kwh], axis=1) * 4  # kW per meter and interval
        for building in set(buildings):
            kw_per_m2 = load[buildings == building].sum(axis=0) / register[building]["floor_area_m2"]
            assert 0 < kw_per_m2.min() and kw_per_m2.max() <= md.MAX_KW_PER_M2
            assert md.DAILY_KW_PER_M2[0] <= kw_per_m2.mean() <= md.DAILY_KW_PER_M2[1]


def test_late_days_are_published_out_of_order():
    start, end = dt.date(2024, 1, 1), dt.date(2024, 3, 31)
    late = md.late_days(start, end, faults=FAULTY)
    assert 10 < len(late) < 50
    assert all(2 <= (published - day).days <= 6 for day, published in late)
    assert md.published_on(start + dt.timedelta(days=1), faults=md.NO_FAULTS) == start + dt.timedelta(days=2)
    # out of order: the day after a late day is (at least once) published before it
    assert any(md.published_on(day + dt.timedelta(days=1), faults=FAULTY) < published
               for day, published in late)
    assert md.late_days(start, end, faults=md.NO_FAULTS) == []
    assert 0 < len(md.late_days(start, end)) < 15  # the default 5 %


def test_files_round_trip_through_duckdb(tmp_path, faulty_day):
    paths = md.write_day_files(DAY, tmp_path, BUILDINGS, faults=FAULTY)
    assert [p.name for p in paths] == ["meters_2024-07-24.csv", "meters_2024-07-24.parquet"]
    assert paths[0].read_text(encoding="utf-8").splitlines()[0] == "building_id,meter_id,ts,reading,unit"
    table = faulty_day.table
    expected = (len(table["reading"]), round(float(table["reading"].sum()), 3),
                len(set(table["meter_id"])), _stamp(table["ts"].min()), _stamp(table["ts"].max()), 3)
    with duckdb.connect() as con:
        for reader, path in zip(("read_csv", "read_parquet"), paths, strict=True):
            got = con.execute(f"select count(*), round(sum(reading), 3), count(distinct meter_id), min(ts), "
                              f"max(ts), count(distinct unit) from {reader}('{path}')").fetchone()
            assert got == expected
            types = dict(con.execute(f"describe select * from {reader}('{path}')").fetchall()[i][:2]
                         for i in range(5))
            assert types == {"building_id": "VARCHAR", "meter_id": "VARCHAR", "ts": "TIMESTAMP",
                             "reading": "DOUBLE", "unit": "VARCHAR"}


def test_bad_arguments_name_the_thing():
    with pytest.raises(ValueError, match="`day`"):
        md.day_readings(dt.date(2015, 12, 31), 2)
    with pytest.raises(ValueError, match="`formats`"):
        md.write_day_files(DAY, "unused", 2, formats=("xlsx",))
