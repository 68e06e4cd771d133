"""MQTT ingest (runs in the leader worker): see client.py, writer.py, parse.py."""
