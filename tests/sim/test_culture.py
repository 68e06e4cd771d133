"""The simulator's biology in-process: seeded per unit, lag, exponential, stationary, dilution."""

from __future__ import annotations

import math

from unit_agent.sim.culture import Culture, GrowthRateEstimator


def _curve(unit: str, hours: float, step: float = 0.25) -> list[float]:
    culture = Culture(unit)
    points = []
    for _ in range(int(hours / step)):
        culture.advance(step)
        points.append(culture.od)
    return points


def test_units_get_similar_but_different_cultures() -> None:
    a1, a2, b = Culture("unit1"), Culture("unit1"), Culture("unit2")
    assert (a1.mu_max, a1.capacity, a1.od) == (a2.mu_max, a2.capacity, a2.od)
    assert (a1.mu_max, a1.capacity) != (b.mu_max, b.capacity)
    assert 0.5 < a1.mu_max < 0.85 and 0.5 < b.mu_max < 0.85


def test_growth_has_lag_exponential_and_stationary_phases() -> None:
    culture = Culture("unit1")
    od = _curve("unit1", 24)
    rates = [math.log(od[i + 1] / od[i]) / 0.25 for i in range(len(od) - 1)]
    peak = max(rates)
    assert rates[0] < 0.3 * peak  # lag: hardly growing at first
    assert 0.5 * culture.mu_max < peak <= culture.mu_max  # exponential phase near mu_max
    assert rates[-1] < 0.05 * peak  # stationary
    assert abs(od[-1] - culture.capacity) < 0.05 * culture.capacity


def test_dilution_lowers_od_by_the_exchanged_fraction() -> None:
    culture = Culture("unit1")
    before = culture.od
    culture.dilute(7.0, 14.0)
    assert math.isclose(culture.od, before * 14 / 21)
    assert 0 < culture.reading() < before


def test_estimator_recovers_a_known_growth_rate() -> None:
    est = GrowthRateEstimator(warmup_samples=5)
    results = [est.add(t / 60, 0.1 * math.exp(0.5 * t / 60)) for t in range(0, 120, 2)]
    assert results[:4] == [None] * 4  # warming up
    rate, od_filtered = [r for r in results if r is not None][-1]
    assert abs(rate - 0.5) < 0.02
    assert od_filtered > 1.0  # normalised to the warm-up mean
