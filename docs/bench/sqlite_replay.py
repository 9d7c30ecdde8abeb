"""SQLite's own cost of the bulk citizen import, without dancu around it.

Replays the rows of a populated identity database into a fresh file with the same schema,
one group of citizens at a time (their history, change-feed and residence-event rows in
the same transaction, as `store/import_direct.rs` writes them), and times the insert
transactions apart from the checkpoints that follow each. The source rows are staged in
temporary tables before each transaction, so reading them is not timed.

Make the source once (release build, about 40 s):

    dancu gen --count 1000000 --seed 7 --out pop.ndjson
    DANCU_BOOTSTRAP_ADMIN_PASSWORD=pw dancu up &        # in an empty directory
    DANCU_USER=admin DANCU_PASSWORD=pw dancu import pop.ndjson --quiet --skip-subjects
    # stop `dancu up`, then copy data/identity.db to SRC

Then, one variant per run (Python's own sqlite3 module; keyword arguments as JSON):

    python3 sqlite_replay.py SRC OUT label '{"page_size": 16384}'
    python3 sqlite_replay.py SRC OUT label '{"page_size": 16384, "drop": ["idx_citizens_name_id"]}'
    python3 sqlite_replay.py SRC OUT label '{"page_size": 16384, "skip": ["history", "feed", "residence"]}'

OUT is overwritten. Figures and their reading are in docs/benchmarks.md.
"""

import json
import os
import sqlite3
import sys
import time

TABLES = ["citizens", "citizen_history", "change_events", "residence_events"]


def schema(src):
    """The CREATE statements of the import's tables and their indexes, tables first."""
    rows = [
        (kind, name, sql)
        for kind, name, table, sql in src.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL"
        )
        if table in TABLES
    ]
    rows.sort(key=lambda row: row[0] != "table")
    return rows


def columns(db, table, without):
    names = [row[1] for row in db.execute(f"PRAGMA main.table_info({table})")]
    return ",".join(name for name in names if name != without)


def replay(src_path, out_path, label, page_size=4096, drop=(), skip=(), group=32768,
           citizen_order="rowid"):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(out_path + suffix):
            os.remove(out_path + suffix)
    with sqlite3.connect(src_path) as src:
        ddl = schema(src)
        count = src.execute("SELECT count(*) FROM citizens").fetchone()[0]
    db = sqlite3.connect(out_path, isolation_level=None)
    db.execute(f"PRAGMA page_size = {page_size}")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA cache_size = -1048576")  # identity's writer: 1 GiB
    db.execute("PRAGMA wal_autocheckpoint = 0")
    for _kind, name, sql in ddl:
        if name not in drop:
            db.execute(sql)
    db.execute("ATTACH ? AS s", (src_path,))
    db.execute("CREATE TEMP TABLE grp (personal_id TEXT PRIMARY KEY)")
    history = columns(db, "citizen_history", "id")
    feed = columns(db, "change_events", "seq")
    residence = columns(db, "residence_events", "seq")
    inserting = checkpointing = 0.0
    for first in range(1, count + 1, group):
        last = min(first + group - 1, count)
        db.execute("DELETE FROM temp.grp")
        db.execute(
            "INSERT INTO temp.grp SELECT personal_id FROM s.citizens WHERE rowid BETWEEN ? AND ?",
            (first, last),
        )
        for name in ("c", "h", "f", "r"):
            db.execute(f"DROP TABLE IF EXISTS temp.{name}")
        mine = "personal_id IN (SELECT personal_id FROM temp.grp)"
        db.execute(
            "CREATE TEMP TABLE c AS SELECT * FROM s.citizens WHERE rowid BETWEEN ? AND ? "
            "ORDER BY rowid",
            (first, last),
        )
        db.execute(f"CREATE TEMP TABLE h AS SELECT * FROM s.citizen_history WHERE {mine} ORDER BY id")
        db.execute(
            f"CREATE TEMP TABLE f AS SELECT * FROM s.change_events WHERE {mine} "
            "AND kind = 'registered' ORDER BY seq"
        )
        db.execute(f"CREATE TEMP TABLE r AS SELECT * FROM s.residence_events WHERE {mine} ORDER BY seq")
        started = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        if "citizens" not in skip:
            db.execute(f"INSERT INTO main.citizens SELECT * FROM temp.c ORDER BY {citizen_order}")
        if "history" not in skip:
            db.execute(f"INSERT INTO main.citizen_history ({history}) SELECT {history} FROM temp.h ORDER BY rowid")
        if "feed" not in skip:
            db.execute(f"INSERT INTO main.change_events ({feed}) SELECT {feed} FROM temp.f ORDER BY rowid")
        if "residence" not in skip:
            db.execute(
                f"INSERT INTO main.residence_events ({residence}) SELECT {residence} FROM temp.r "
                "ORDER BY rowid"
            )
        db.execute("COMMIT")
        committed = time.perf_counter()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        checkpointing += time.perf_counter() - committed
        inserting += committed - started
    size = os.path.getsize(out_path)
    db.close()
    print(
        f"{label}: inserts {inserting:.1f} s = {count / inserting:,.0f} citizens/s; "
        f"checkpoints {checkpointing:.1f} s; file {size / 1e6:.0f} MB",
        flush=True,
    )


if __name__ == "__main__":
    options = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    replay(sys.argv[1], sys.argv[2], sys.argv[3], **options)
