"""Files that are not what they claim: each is a SourceRejected with its reason, never a traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import zipfile

import pytest

from connectors.errors import SourceRejected
from connectors.fetch import fetch_dataset
from connectors.spec import load_sources
from tests.conftest import MIANYANG

SOURCES = load_sources(MIANYANG / "sources.yml")
FORESTRY = SOURCES.department("forestry")
CSV_SPEC = next(d for d in FORESTRY.datasets if d.name == "forest_resources")
WASTE = SOURCES.department("city_management")
XLSX_SPEC = next(d for d in WASTE.datasets if d.name == "domestic_waste")


def landing_refusal(spec, department, folder) -> SourceRejected:
    with pytest.raises(SourceRejected) as err:
        fetch_dataset(spec, department, None, None, {}, landing=folder)
    assert "\n" not in str(err.value)
    return err.value


def write_bomb(path, inflated_bytes: int) -> None:
    """A real zip bomb: one member of zeros, written in chunks so the test itself stays light."""
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for _ in range(inflated_bytes // len(chunk)):
                member.write(chunk)


def test_a_zip_bomb_is_refused_unread_in_bounded_memory(tmp_path):
    folder = tmp_path / "landing"
    folder.mkdir()
    bomb = folder / "ledger.xlsx"
    write_bomb(bomb, 1 << 30)  # 1 GiB of zeros in about 1 MB
    assert bomb.stat().st_size < 5 * 2**20
    # peak memory of the refusal, in a fresh process: reading the bomb would need over 1 GiB
    script = textwrap.dedent(f"""
        import resource, sys
        from connectors.errors import SourceRejected
        from connectors.fetch import fetch_dataset
        from tests.connectors.test_hostile_files import XLSX_SPEC, WASTE
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            folder = __import__("pathlib").Path({str(folder)!r})
            fetch_dataset(XLSX_SPEC, WASTE, None, None, {{}}, landing=folder)
        except SourceRejected as exc:
            print(str(exc))
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=str(MIANYANG.parent.parent))
    message, grown_mib = done.stdout.strip().splitlines()
    assert "possible zip bomb" in message and "inflate to 1,073,741,8" in message
    assert int(grown_mib) < 100, f"refusing the bomb grew the process by {grown_mib} MiB"


def test_a_corrupt_workbook_is_refused(tmp_path):
    (tmp_path / "ledger.xlsx").write_bytes(b"PK\x03\x04 this is not really a zip archive")
    assert "not a readable .xlsx file" in str(landing_refusal(XLSX_SPEC, WASTE, tmp_path))


def test_a_csv_renamed_xlsx_is_refused(tmp_path):
    (tmp_path / "ledger.xlsx").write_text("年份,区县\n2024,涪城区\n", encoding="utf-8")
    assert "not a zip archive" in str(landing_refusal(XLSX_SPEC, WASTE, tmp_path))


def test_a_csv_field_over_the_csv_module_limit_is_refused(tmp_path):
    huge = "x" * 200_000  # the csv module's default field limit is 131,072 characters
    (tmp_path / "forest.csv").write_text(f'title\nunits\n年份,区县\n2024,"{huge}"\n', encoding="utf-8")
    err = landing_refusal(CSV_SPEC, FORESTRY, tmp_path)
    assert "not a readable CSV file" in str(err) and "131,072" in str(err)


def test_a_nul_byte_in_a_csv_is_refused(tmp_path):
    (tmp_path / "forest.csv").write_bytes("年份,区县\n2024,涪\0城区\n".encode())
    assert "NUL bytes" in str(landing_refusal(CSV_SPEC, FORESTRY, tmp_path))


@pytest.mark.parametrize(("spec", "department", "name"), [(CSV_SPEC, FORESTRY, "forest.csv"),
                                                          (XLSX_SPEC, WASTE, "ledger.xlsx")])
def test_a_login_page_saved_as_the_file_is_refused(tmp_path, spec, department, name):
    (tmp_path / name).write_text("<!DOCTYPE html><html><head><title>统一身份认证 - 登录</title></head>"
                                 "<body><form>用户名</form></body></html>", encoding="utf-8")
    err = landing_refusal(spec, department, tmp_path)
    assert "HTML page ('统一身份认证 - 登录')" in str(err) and "check the URL and token" in str(err)


def test_a_login_page_served_for_a_file_is_refused(source_server):
    source_server.set_faults(html_page=True)
    with pytest.raises(SourceRejected) as err:
        fetch_dataset(CSV_SPEC, FORESTRY, source_server.url, source_server.token, {})
    assert "HTML page" in str(err.value) and "instead of a CSV file" in str(err.value)


def test_a_landing_file_over_the_cap_is_refused_unread(tmp_path):
    import dataclasses

    small = dataclasses.replace(FORESTRY, max_body_mb=0.001)  # about 1 KB
    (tmp_path / "forest.csv").write_text("年份,区县\n" + "2024,涪城区\n" * 500, encoding="utf-8")
    err = landing_refusal(CSV_SPEC, small, tmp_path)
    assert "7,514 bytes, over the cap of 1,048 bytes" in str(err) and "http.max_body_mb" in str(err)
