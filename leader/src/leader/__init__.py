"""The leader of a Pioreactor cluster."""

__version__ = "0.1.0"
