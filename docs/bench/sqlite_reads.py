"""SQLite's own cost of the register's two hottest reads, on two database files.

For each file: 2,000 point reads by personal ID (`GetCitizen`'s query) and 2,000 searches
by name and year of birth (`SearchCitizens`' query, first page of 50), keys drawn from the
file itself in a seeded random order, on one connection with the pooled readers' 32 MiB
page cache. Prints the median and 99th percentile of each.

    python3 sqlite_reads.py A.db B.db

The files of docs/benchmarks.md were written by sqlite_replay.py (4 KiB and 16 KiB pages).
"""

import random
import sqlite3
import statistics
import sys
import time

GET = "SELECT * FROM citizens WHERE personal_id = ?"
SEARCH = (
    "SELECT * FROM citizens WHERE name_key = ? AND birth_year = ? AND personal_id > '' "
    "ORDER BY personal_id LIMIT 50"
)


def measure(path):
    db = sqlite3.connect(path)
    db.execute("PRAGMA cache_size = -32768")
    ids = [(row[0],) for row in db.execute("SELECT personal_id FROM citizens WHERE rowid % 500 = 0")]
    names = list(db.execute("SELECT name_key, birth_year FROM citizens WHERE rowid % 500 = 7"))
    shuffle = random.Random(1)
    shuffle.shuffle(ids)
    shuffle.shuffle(names)
    results = []
    for label, sql, keys in (("get", GET, ids), ("search", SEARCH, names)):
        times = []
        for key in keys:
            started = time.perf_counter()
            db.execute(sql, key).fetchall()
            times.append(time.perf_counter() - started)
        times.sort()
        p50 = statistics.median(times) * 1e6
        p99 = times[int(len(times) * 0.99)] * 1e6
        results.append(f"{label}: p50 {p50:.1f} µs, p99 {p99:.1f} µs")
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    print(f"{path} ({page_size}-byte pages): " + "; ".join(results), flush=True)


if __name__ == "__main__":
    for path in sys.argv[1:]:
        measure(path)
