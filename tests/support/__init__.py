"""Test harness: real brokers and real processes, started on free ports and always cleaned up."""
