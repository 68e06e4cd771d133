"""The wire contract shared by the leader and the unit agent (msgspec only)."""

# Bumped when a wire type changes incompatibly; additive changes (new fields with defaults) keep it.
SCHEMA_VERSION = 1
__version__ = "0.1.0"
