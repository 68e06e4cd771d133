"""A believable culture: Baranyi-style lag, logistic growth to a carrying capacity, dilution, noise.

Parameters are seeded by the unit name, so two units give similar but not identical curves. Time is
simulated hours; callers convert wall time with PIO_SIM_SPEED.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import deque


def seeded_rng(*parts: str) -> random.Random:
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 (simulation, not security)


class Culture:
    def __init__(self, unit: str):
        rng = seeded_rng("culture", unit)
        self.mu_max = rng.uniform(0.55, 0.8)  # h⁻¹
        self.capacity = rng.uniform(1.6, 2.4)  # OD at stationary phase
        self.od = rng.uniform(0.05, 0.07)
        lag_hours = rng.uniform(2.5, 3.5)
        # Baranyi: physiological state q; growth is throttled by q/(1+q) until cells adapt
        self.q = 1.0 / (math.exp(self.mu_max * lag_hours) - 1.0)
        self.noise = random.Random(rng.random())  # noqa: S311

    def advance(self, hours: float) -> None:
        steps = max(1, math.ceil(hours / 0.01))
        h = hours / steps
        for _ in range(steps):
            alpha = self.q / (1.0 + self.q)
            self.od += self.mu_max * alpha * self.od * (1.0 - self.od / self.capacity) * h
            self.q *= math.exp(self.mu_max * h)

    def dilute(self, added_ml: float, volume_ml: float) -> None:
        """Fresh media in, the same volume of culture out (the efflux tube keeps the volume)."""
        if added_ml > 0 and volume_ml > 0:
            self.od *= volume_ml / (volume_ml + added_ml)

    def reading(self) -> float:
        return max(self.od * (1.0 + self.noise.gauss(0.0, 0.01)) + self.noise.gauss(0.0, 0.0015), 1e-4)


class GrowthRateEstimator:
    """Growth rate from a noisy OD stream: least-squares slope of ln(normalised OD) over the last
    simulated hour, lightly smoothed - what growth_rate_calculating publishes, minus the real EKF."""

    def __init__(self, warmup_samples: int, window_hours: float = 1.0):
        self.warmup_samples = max(1, warmup_samples)
        self.warmup: list[float] = []
        self.scale: float | None = None
        self.window_hours = window_hours
        self.points: deque[tuple[float, float]] = deque(maxlen=2000)
        self.rate = 0.0
        self.first_fit = True

    def after_dose(self) -> None:
        """A dilution steps ln(OD) down; restart the window so it does not read as negative growth."""
        self.points.clear()

    @property
    def warming_up(self) -> bool:
        return self.scale is None

    def add(self, hours: float, od: float) -> tuple[float, float] | None:
        """Feed one reading; (growth_rate h⁻¹, od_filtered) once warmed up, else None."""
        if self.scale is None:
            self.warmup.append(od)
            if len(self.warmup) >= self.warmup_samples:
                self.scale = max(sum(self.warmup) / len(self.warmup), 1e-6)
            return None
        self.points.append((hours, math.log(max(od, 1e-6) / self.scale)))
        while self.points[0][0] < hours - self.window_hours:
            self.points.popleft()
        if len(self.points) < 3:
            return self.rate, od / self.scale
        n = len(self.points)
        mt = sum(t for t, _ in self.points) / n
        my = sum(y for _, y in self.points) / n
        var = sum((t - mt) ** 2 for t, _ in self.points)
        slope = sum((t - mt) * (y - my) for t, y in self.points) / var if var > 0 else 0.0
        self.rate = slope if self.first_fit else 0.7 * self.rate + 0.3 * slope
        self.first_fit = False
        last_t = self.points[-1][0]
        return self.rate, math.exp(my + slope * (last_t - mt))
