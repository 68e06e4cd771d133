"""Development tooling, not shipped: start brokers, agents and leaders as real processes.

Used by the test suite and by `make run` (`python -m devcluster`), so a demo cluster
and a test cluster are started the same way.
"""
