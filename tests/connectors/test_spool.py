"""The spool a pulled day is written to: memory up to its bound, then one file on disk."""

from __future__ import annotations

from connectors.spool import Spool


def test_chunks_stay_in_memory_up_to_the_bound(tmp_path):
    spool = Spool(tmp_path / "day.part", memory_bytes=10)
    for chunk in (b"abc", b"", b"defg"):
        spool.write(chunk)
    spool.close()
    assert not spool.on_disk and spool.chunks == [b"abc", b"defg"] and spool.size == 9
    assert not (tmp_path / "day.part").exists()


def test_past_the_bound_everything_moves_to_disk_one_line_per_chunk(tmp_path):
    spool = Spool(tmp_path / "day.part", memory_bytes=10)
    for chunk in (b"abc", b"defg", b"hi", b"", b"jk"):
        spool.write(chunk)
    spool.close()
    assert spool.on_disk and spool.chunks == [] and spool.size == 15
    assert (tmp_path / "day.part").read_bytes() == b"abc\ndefg\nhi\njk\n"


def test_a_discarded_spool_leaves_nothing(tmp_path):
    for bound in (100, 1):  # held in memory, then spooled to disk
        spool = Spool(tmp_path / "day.part", memory_bytes=bound)
        spool.write(b"abc")
        spool.discard()
        assert spool.chunks == [] and list(tmp_path.iterdir()) == []
