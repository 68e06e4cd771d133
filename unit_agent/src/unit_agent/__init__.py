"""The unit agent: a small service on every Pioreactor that runs `pio` for the leader."""

__version__ = "0.1.0"
