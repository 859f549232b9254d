"""Labelled run histories for benchmarking regression detectors (seeded, reproducible).

Kinds: one step change (2%..50%, log-uniform, up or down), no change, or drift only.
Noise: gaussian, lognormal (right-skewed), bimodal (two machines), outlier-burst,
drift (background linear drift) and weekly (period 7); coefficient of variation 1%..12%.

    .venv/bin/python scripts/bench/histories.py --count 5 --seed 1
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["NOISE_KINDS", "History", "generate", "generate_pairs"]

NOISE_KINDS = ("gaussian", "lognormal", "bimodal", "outlier-burst", "drift", "weekly")


@dataclass(frozen=True)
class History:
    """One labelled history: `change_index` is the first run at the new level (steps only)."""

    id: str
    kind: str  # "step" | "none" | "drift"
    noise: str
    cv: float
    values: list[float]
    change_index: int | None
    change_pct: float | None
    drift_pct: float | None


def _noise(rng: np.random.Generator, kind: str, n: int, cv: float) -> np.ndarray:
    z = rng.standard_normal(n)
    if kind == "lognormal":
        s = math.sqrt(math.log(1.0 + cv * cv))
        return np.exp(s * z - s * s / 2.0)
    if kind == "bimodal":
        machine = rng.integers(0, 2, n)
        return 1.0 + 0.5 * cv * z + math.sqrt(3.0) * cv * machine
    if kind == "outlier-burst":
        out = 1.0 + cv * z
        i = 0
        while i < n:
            if rng.random() < 0.03:
                length = int(rng.integers(1, 4))
                out[i : i + length] *= 1.0 + rng.uniform(5.0, 10.0) * cv
                i += length + 1
            else:
                i += 1
        return out
    if kind == "drift":
        total = rng.uniform(1.0, 3.0) * cv * rng.choice([-1.0, 1.0])
        return (1.0 + cv * z) * (1.0 + total * np.arange(n) / (n - 1))
    if kind == "weekly":
        phase = rng.uniform(0.0, 2.0 * math.pi)
        week = math.sqrt(2.0) * np.sin(2.0 * math.pi * np.arange(n) / 7.0 + phase)
        return 1.0 + cv * (0.6 * z + 0.8 * week)
    return 1.0 + cv * z


def generate(
    count: int,
    seed: int = 1,
    length: tuple[int, int] = (40, 120),
    shares: tuple[float, float, float] = (0.6, 0.25, 0.15),
) -> list[History]:
    """`count` histories: shares of (step, no change, drift only)."""
    rng = np.random.default_rng(seed)
    out: list[History] = []
    for i in range(count):
        kind = str(rng.choice(["step", "none", "drift"], p=list(shares)))
        n = int(rng.integers(length[0], length[1] + 1))
        cv = float(math.exp(rng.uniform(math.log(0.01), math.log(0.12))))
        level = float(100.0 * math.exp(rng.uniform(-1.0, 2.0)))
        change_index: int | None = None
        change_pct: float | None = None
        drift_pct: float | None = None
        if kind == "drift":
            noise = str(rng.choice(["gaussian", "lognormal"]))
            values = level * _noise(rng, noise, n, cv)
            drift_pct = float(rng.uniform(5.0, 40.0) * rng.choice([-1.0, 1.0]))
            values = values * (1.0 + drift_pct / 100.0 * np.arange(n) / (n - 1))
        else:
            noise = str(rng.choice(NOISE_KINDS))
            values = level * _noise(rng, noise, n, cv)
            if kind == "step":
                size = math.exp(rng.uniform(math.log(0.02), math.log(0.5)))
                up = bool(rng.random() < 0.5)
                factor = 1.0 + size if up else 1.0 / (1.0 + size)
                change_index = int(rng.integers(int(0.25 * n), int(0.75 * n) + 1))
                values[change_index:] *= factor
                change_pct = (factor - 1.0) * 100.0
        out.append(
            History(
                f"h{i:04d}",
                kind,
                noise,
                cv,
                [round(float(v), 6) for v in values],
                change_index,
                change_pct,
                drift_pct,
            )
        )
    return out


def generate_pairs(count: int, seed: int = 1) -> list[tuple[History, History]]:
    """Two metrics of one series (think latency and throughput): the partner has its own noise
    and step size but changes at the same run (or not at all when the first does not)."""
    rng = np.random.default_rng(seed + 1_000_003)
    pairs = []
    for h in generate(count, seed, shares=(0.7, 0.3, 0.0)):
        n = len(h.values)
        noise = str(rng.choice(NOISE_KINDS))
        cv = float(math.exp(rng.uniform(math.log(0.01), math.log(0.12))))
        values = 100.0 * _noise(rng, noise, n, cv)
        change_pct: float | None = None
        if h.change_index is not None:
            size = math.exp(rng.uniform(math.log(0.02), math.log(0.5)))
            factor = 1.0 + size if rng.random() < 0.5 else 1.0 / (1.0 + size)
            values[h.change_index :] *= factor
            change_pct = (factor - 1.0) * 100.0
        partner = History(
            f"{h.id}b",
            h.kind,
            noise,
            cv,
            [round(float(v), 6) for v in values],
            h.change_index,
            change_pct,
            None,
        )
        pairs.append((h, partner))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(json.dumps([asdict(h) for h in generate(args.count, args.seed)]))


if __name__ == "__main__":
    main()
