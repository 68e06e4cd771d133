"""The test broker (it lives in `devcluster`, shared with `make run`)."""

from devcluster.broker import MOSQUITTO, Broker

__all__ = ["MOSQUITTO", "Broker"]
