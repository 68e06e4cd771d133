"""MQTT ingest, run by the leader worker: everything units publish lands in the leader's store.

    leader.ingest.start(app) -> Ingest      # starts the MQTT client thread + the batch writer thread
    ingest.stop()                           # commits what is queued, then disconnects

Pieces: `parse` (topic + payload -> rows, routed by the contrib descriptors), `writer` (batched
transactions, acks after commit, retention pruning), `client` (paho, persistent QoS-1 session).
`python -m leader.ingest` runs the ingest alone (tests and benchmarks kill and restart it).

Settings (app config, file or `LEADER_*` environment like every leader setting):
    MQTT_URL                 the broker, `mqtt://[user:password@]host:port`
    INGEST_CLIENT_ID         the persistent session's client id (default: derived from DATABASE, so
                             it is stable across restarts and two leaders may share a broker); the
                             broker queues messages for it while the ingest is down
    INGEST_BATCH_SIZE        messages per transaction at most (default 1000)
    INGEST_FLUSH_INTERVAL    seconds a batch waits for more messages at most (default 0.02)
    RETENTION_DAYS           logs, readings and the audit trail older than this are pruned hourly (0 = keep)
    INGEST_DESCRIPTOR_REFRESH  seconds between looks at CONTRIB_DIR for new charts/settings (default 30)
The broker must let the session queue and keep in flight enough QoS-1 messages (mosquitto:
`max_queued_messages`, `max_inflight_messages`): acks wait for a commit, up to one flush interval.
Real pio publishes its logs at QoS 0, which mosquitto queues for an offline session only with
`queue_qos0_messages true`; states, settings and readings are QoS 1/2 and are always queued.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from typing import Any
from urllib.parse import urlparse

from flask import Flask

from ..db import connect
from . import descriptors
from .client import IngestClient
from .writer import BatchWriter

log = logging.getLogger("leader.ingest")


def default_client_id(database: str) -> str:
    digest = hashlib.sha256(os.path.abspath(database).encode()).hexdigest()[:12]
    return f"leader-ingest-{digest}"


class Ingest:
    def __init__(self, client: IngestClient, writer: BatchWriter, contrib_dir: str, refresh: float) -> None:
        self.client = client
        self.writer = writer
        self.contrib_dir = contrib_dir
        self._stopping = threading.Event()
        self._refresher = threading.Thread(target=self._refresh, args=(refresh,), name="ingest-descriptors")
        self._refresher.daemon = True
        self._refresher.start()

    def _refresh(self, every: float) -> None:
        """Follow edits of the contrib descriptors: a new chart or setting is ingested without a restart."""
        while not self._stopping.wait(every):
            try:
                router = descriptors.router(self.contrib_dir)
            except Exception:
                log.exception("ingest: cannot read the contrib descriptors; keeping the current ones")
                continue
            current = self.writer.router
            if (router.subscriptions(), router.settings, router.readings) != (
                current.subscriptions(),
                current.settings,
                current.readings,
            ):
                self.writer.router = router  # read once per batch by the writer thread
                self.client.use(router)
                log.info("ingest: descriptors changed; %d subscriptions", len(router.subscriptions()))

    def stop(self) -> None:
        self._stopping.set()
        # the writer first: what it commits is acked while the connection is still up
        self.writer.stop()
        self.client.stop()

    def stats(self) -> dict[str, Any]:
        return {"connected": self.client.connected.is_set(), **self.writer.stats.as_dict()}


def start(app: Flask) -> Ingest:
    cfg = app.config
    url = urlparse(cfg["MQTT_URL"])
    router = descriptors.router(cfg["CONTRIB_DIR"])
    database, synchronous = cfg["DATABASE"], cfg["DB_SYNCHRONOUS"]
    writer = BatchWriter(
        lambda: connect(database, synchronous),  # FULL: a PUBACK follows a commit that is on disk
        router,
        batch_size=int(cfg["INGEST_BATCH_SIZE"]),
        flush_interval=float(cfg["INGEST_FLUSH_INTERVAL"]),
        retention_days=float(cfg["RETENTION_DAYS"]) or None,
        changes_keep=int(cfg["EVENTS_KEEP"]),
    )
    client = IngestClient(
        url.hostname or "127.0.0.1",
        url.port or 1883,
        str(cfg.get("INGEST_CLIENT_ID") or default_client_id(database)),
        router,
        writer,
        username=url.username,
        password=url.password,
    )
    writer.on_commit = client.ack
    writer.start()
    client.start()
    log.info("ingest: %d subscriptions on %s", len(router.subscriptions()), cfg["MQTT_URL"])
    return Ingest(client, writer, cfg["CONTRIB_DIR"], float(cfg["INGEST_DESCRIPTOR_REFRESH"]))
