"""Fleet management: versions and health of every unit (from the store), clocks, identify, plugins and
calibrations across units.

    checker.py       the worker's slow check: `/unit_api/versions` of units silent on MQTT
    plugins.py       plugin requests: PEP 508 names, PEP 440 versions, PLUGINS_ENABLED, allow-list; listing
    calibrations.py  per-unit calibrations, one calibration's curve for a chart, unit x device coverage

The mutating parts are operations (leader.operations.fleet); the reads fan out with leader.fanout.
"""
