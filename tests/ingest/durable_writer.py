"""A stand-in ingest for the durability test: stores log messages with the real batch writer and prints
the last sequence number of each batch once its commit returned - the moment the real ingest PUBACKs.

    python tests/ingest/durable_writer.py DB_PATH CONTRIB_DIR

The WAL is never checkpointed (wal_autocheckpoint=0) and the process is meant to be SIGKILLed, so
everything acknowledged lives only in the -wal file when the test looks.
"""

from __future__ import annotations

import sqlite3
import sys
import time

from leader.db import connect
from leader.ingest import descriptors
from leader.ingest.writer import BatchWriter, Message

TOPIC = "pioreactor/unit1/exp1/logs/app/info"


def main(db_path: str, contrib: str) -> None:
    def conn() -> sqlite3.Connection:
        db = connect(db_path)  # the store's default: synchronous=FULL
        db.execute("PRAGMA wal_autocheckpoint = 0")
        return db

    def acked(batch: list[Message]) -> None:
        print(batch[-1].payload.decode().split("seq=")[1].split('"')[0], flush=True)

    writer = BatchWriter(
        conn, descriptors.router(contrib), batch_size=200, flush_interval=0.01, on_commit=acked
    ).start()
    seq = 0
    while True:  # until killed
        body = f'{{"task":"stirring","message":"seq={seq}","level":"INFO","timestamp":""}}'
        writer.put(Message(TOPIC, body.encode(), time.time()))
        seq += 1
        if seq % 200 == 0:
            time.sleep(0.002)  # let the writer keep up; the queue must not grow without bound


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
