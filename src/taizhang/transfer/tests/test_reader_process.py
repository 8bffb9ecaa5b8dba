"""The forked reader process of bulk imports (engine._Reader): the same outcome as the in-process path, the
database out of its reach, and nothing left behind when it fails, is killed or the user cancels."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from taizhang.core.protected import bidx_lookup
from taizhang.establishments.models import Establishment, EstablishmentEvent, EstablishmentKind
from taizhang.rollups.services import verify
from taizhang.transfer import bulk, engine
from taizhang.transfer.ledgers import EstablishmentLedger

from .helpers import HEADER, code, csv_bytes

pytestmark = pytest.mark.django_db


def _sheet(tmp_path: Path, rows: list[list[Any]], name: str = "s.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(csv_bytes([HEADER, *rows]))
    return path


def _rows(n: int, start: int = 1) -> list[list[Any]]:
    return [
        [
            code(i),
            f"第{i}号超市",
            "超市",
            "超市",
            "官园社区",
            f"光华路{i}号",
            "张三",
            f"138{i:08d}",
            i % 7,
            "已复工",
            "2020-03-19",
        ]
        for i in range(start, start + n)
    ]


def _readers(monkeypatch: Any) -> list[int]:
    """Record the pid of every reader process started."""
    started: list[int] = []
    original = engine._Reader.start

    def start(self: engine._Reader) -> None:
        original(self)
        started.append(self.process.pid or 0)

    monkeypatch.setattr(engine._Reader, "start", start)
    return started


def _problems(outcome: engine.Outcome) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.reason) for p in outcome.preview]


def test_reader_process_gives_the_in_process_outcome(
    worker: Any, categories: Any, tmp_path: Path, monkeypatch: Any, settings: Any
) -> None:
    """Chunks of 7 rows over 40 rows with problems of every kind, once through the reader process, once with it
    switched off: the same report, row for row; then a commit writes the same rows (encrypted, found by their
    blind index), events and tallies."""
    monkeypatch.setattr(EstablishmentLedger, "chunk_size", 7)
    rows = _rows(40)
    rows[3][0] = rows[3][0][:-1] + ("0" if rows[3][0][-1] != "0" else "1")  # a bad check character
    rows[9][4] = "不存在社区"  # unknown region
    rows[15] = [*rows[2][:1], *rows[15][1:]]  # a duplicate code within the file
    rows[22][1] = ""  # a required cell empty
    rows[30][2] = "飞船"  # an unknown kind (its message lists the kinds: from the table, not the database)
    path = _sheet(tmp_path, rows)
    started = _readers(monkeypatch)
    forked = engine.run_import(EstablishmentLedger(user=worker), path, mode=engine.CHECK, name="s.csv")
    assert len(started) == 1
    settings.TAIZHANG_TRANSFER_READER_PROCESS = False
    inline = engine.run_import(EstablishmentLedger(user=worker), path, mode=engine.CHECK, name="s.csv")
    assert len(started) == 1  # switched off: no second reader
    assert _problems(forked) == _problems(inline) and len(_problems(forked)) == 5
    assert (forked.total, forked.valid, forked.invalid) == (inline.total, inline.valid, inline.invalid) == (40, 35, 5)
    assert "可选：" in next(p.reason for p in forked.preview if p.column == "单位类型")

    settings.TAIZHANG_TRANSFER_READER_PROCESS = True
    written = engine.run_import(EstablishmentLedger(user=worker), path, mode=engine.VALID, name="s.csv")
    assert len(started) == 2 and written.written == 35
    assert Establishment.objects.count() == 35
    assert EstablishmentEvent.objects.filter(kind=EstablishmentEvent.Kind.IMPORTED).count() == 35
    assert set(EstablishmentEvent.objects.values_list("establishment_id", flat=True)) == set(
        Establishment.objects.values_list("pk", flat=True)
    )
    assert verify() == []  # the dashboard's tallies equal a direct count
    found = Establishment.objects.get(**bidx_lookup(Establishment, "contact_mobile", "138 0000 0005"))
    assert (found.name, found.contact_name, found.contact_mobile) == ("第5号超市", "张三", "13800000005")


def test_a_database_query_in_the_reader_process_is_refused(
    worker: Any, categories: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """The reader shares the parent's connection (and its transaction): a query there must fail loudly, and the
    import then writes nothing."""
    original = EstablishmentLedger.check_row

    def check_row(self: EstablishmentLedger, row: Any) -> None:
        original(self, row)
        if os.getpid() != parent:
            Establishment.objects.count()

    parent = os.getpid()
    monkeypatch.setattr(EstablishmentLedger, "check_row", check_row)
    with pytest.raises(engine.ReaderFailed, match="database access is not allowed"):
        engine.run_import(EstablishmentLedger(user=worker), _sheet(tmp_path, _rows(3)), mode=engine.ALL, name="s.csv")
    assert Establishment.objects.count() == 0
    assert Establishment.objects.count() == 0  # and the parent's connection still works


def test_a_killed_reader_rolls_the_import_back(worker: Any, categories: Any, tmp_path: Path, monkeypatch: Any) -> None:
    """The reader dies after the first chunk was written: the run fails and the chunk is rolled back."""
    monkeypatch.setattr(EstablishmentLedger, "chunk_size", 5)
    monkeypatch.setattr(engine._Reader, "WAIT", 0.05)
    flag = tmp_path / "stored"
    original = EstablishmentLedger.prepare_chunk

    def prepare_chunk(self: EstablishmentLedger, rows: Any, *, job_id: Any, **kwargs: Any) -> Any:
        if rows[0].row > 6:  # the second chunk: die once the parent has written the first
            for _ in range(500):
                if flag.exists():
                    break
                time.sleep(0.01)
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self, rows, job_id=job_id, **kwargs)

    store = EstablishmentLedger.store_chunk

    def store_chunk(self: EstablishmentLedger, payload: Any) -> int:
        written = store(self, payload)
        flag.write_text(str(written))
        return written

    monkeypatch.setattr(EstablishmentLedger, "prepare_chunk", prepare_chunk)
    monkeypatch.setattr(EstablishmentLedger, "store_chunk", store_chunk)
    with pytest.raises(engine.ReaderFailed, match="意外退出"):
        engine.run_import(EstablishmentLedger(user=worker), _sheet(tmp_path, _rows(20)), mode=engine.ALL, name="s.csv")
    assert flag.read_text() == "5"  # the first chunk had been written …
    assert Establishment.objects.count() == 0  # … and is gone


def test_cancel_stops_the_reader(worker: Any, categories: Any, tmp_path: Path, monkeypatch: Any) -> None:
    started = _readers(monkeypatch)
    with pytest.raises(engine.Cancelled):
        engine.run_import(
            EstablishmentLedger(user=worker), _sheet(tmp_path, _rows(30)), mode=engine.ALL, name="s.csv", cancelled=lambda: True
        )
    assert len(started) == 1
    with pytest.raises(ProcessLookupError):
        os.kill(started[0], 0)  # terminated and reaped
    assert Establishment.objects.count() == 0


def test_the_reader_ends_itself_when_its_parent_is_gone(monkeypatch: Any) -> None:
    """A reader whose parent died (its parent pid changes to the reaper's) exits instead of waiting forever."""
    exits: list[int] = []

    def fake_exit(code: int) -> None:
        exits.append(code)
        raise SystemExit(code)

    monkeypatch.setattr(engine.os, "_exit", fake_exit)
    with pytest.raises(SystemExit):
        engine._watch_parent(os.getppid() + 1_000_000, interval=0.01)
    assert exits == [1]


def test_a_refused_file_is_reported_from_the_reader(worker: Any, categories: Any, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes("名字,地方\n甲,乙\n".encode())
    with pytest.raises(engine.FileRefused, match="没有找到“单位台账”的列标题"):
        engine.run_import(EstablishmentLedger(user=worker), path, mode=engine.ALL, name="x.csv")


def test_no_reader_process_while_other_threads_run(worker: Any, categories: Any, tmp_path: Path, monkeypatch: Any) -> None:
    """A fork copies only the calling thread: with another thread alive the import runs in-process."""
    started = _readers(monkeypatch)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        outcome = engine.run_import(EstablishmentLedger(user=worker), _sheet(tmp_path, _rows(4)), mode=engine.ALL, name="s.csv")
    finally:
        stop.set()
        other.join()
    assert started == [] and outcome.written == 4


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ids from a PostgreSQL sequence")
def test_events_follow_the_ids_the_sequence_gave(worker: Any, categories: Any, tmp_path: Path, monkeypatch: Any) -> None:
    """Other sessions may take ids of the sequence in between this run's: every new row gets its one 导入 event,
    and the other session's row, whose id lies between two of ours, gets none."""
    region = worker.posts.get().region
    original = bulk.reserve_ids
    others: list[int] = []

    def gappy(model: Any, n: int) -> list[int]:
        ids = original(model, 2 * n)
        if model is Establishment and not others:
            other = Establishment.objects.create(
                pk=ids[1], name="别的会话的单位", kind=EstablishmentKind.objects.all()[0], region=region, region_path=region.path
            )
            others.append(other.pk)
        return ids[::2]

    monkeypatch.setattr(bulk, "reserve_ids", gappy)
    outcome = engine.run_import(EstablishmentLedger(user=worker), _sheet(tmp_path, _rows(6)), mode=engine.ALL, name="s.csv")
    assert outcome.written == 6 and len(others) == 1
    imported = EstablishmentEvent.objects.filter(kind=EstablishmentEvent.Kind.IMPORTED)
    assert sorted(imported.values_list("establishment_id", flat=True)) == sorted(
        Establishment.objects.exclude(pk=others[0]).values_list("pk", flat=True)
    )


def test_the_collector_is_restored_after_a_run_and_stays_on_during_it(
    worker: Any, categories: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """engine._bulk_gc: during a run the objects older than the run are frozen and young collections are rarer,
    but a reference cycle made during the run is still collected; after the run — finished or failed — the
    thresholds and the frozen set are what they were."""
    import gc
    import weakref

    before = (gc.get_threshold(), gc.get_freeze_count())
    seen: list[Any] = []
    original = EstablishmentLedger.store_chunk

    class Node:
        other: Any = None

    def store_chunk(self: EstablishmentLedger, payload: Any) -> int:
        node = Node()
        node.other = node  # a cycle only the collector can free
        ref = weakref.ref(node)
        del node
        gc.collect(0)
        seen.append((gc.get_threshold()[0], gc.get_freeze_count() > 0, ref() is None))
        return original(self, payload)

    monkeypatch.setattr(EstablishmentLedger, "store_chunk", store_chunk)
    outcome = engine.run_import(EstablishmentLedger(user=worker), _sheet(tmp_path, _rows(3)), mode=engine.ALL, name="s.csv")
    assert outcome.written == 3
    assert seen == [(max(before[0][0], engine.GC_YOUNG_THRESHOLD), True, True)]
    assert (gc.get_threshold(), gc.get_freeze_count()) == before

    def broken(self: EstablishmentLedger, payload: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(EstablishmentLedger, "store_chunk", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        engine.run_import(EstablishmentLedger(user=worker), _sheet(tmp_path, _rows(3, start=10)), mode=engine.ALL, name="s.csv")
    assert (gc.get_threshold(), gc.get_freeze_count()) == before
