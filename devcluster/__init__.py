"""Development tooling, not shipped: start brokers, agents and leaders as real processes.

Used by the test suite (through `tests/support`) and by `make run` (`python -m devcluster`), so a demo cluster
and a test cluster are started the same way.
"""
