"""The one way the benchmarks read percentiles: an HdrHistogram of the samples.

    percentiles_ms([1.2, 3.4, 2.2], (50, 99))   # {50.0: 2.201, 99.0: 3.4}
    percentiles([812, 790, 1034], (50,))        # integer units as they are (ns for the engine)

The histogram is the run store's (1 to 3.6e9 units, 3 significant figures), so a figure printed
by a command and the same figure merged later from the stored histograms agree. A bucket's top
can sit just above the largest sample: no percentile is reported past the exact maximum.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from collectors.store import histograms

__all__ = ["percentiles", "percentiles_ms"]

Samples = Sequence[float] | np.ndarray[Any, Any]


def percentiles(values: Samples, qs: Iterable[float]) -> dict[float, float]:
    """Percentiles (0-100) of samples in whole units (values under 1 count as 1); 0.0 for
    each when there are none."""
    array = np.asarray(values, dtype=np.float64)
    histogram = histograms.new_histogram()
    histograms.record_us(histogram, array)
    top = float(array.max()) if array.size else 0.0
    return {q: min(v * 1000, top) for q, v in histograms.percentiles_ms(histogram, qs).items()}


def percentiles_ms(values_ms: Samples, qs: Iterable[float]) -> dict[float, float]:
    """Percentiles (0-100) of millisecond samples, recorded to the microsecond."""
    scaled = percentiles(np.asarray(values_ms, dtype=np.float64) * 1000, qs)
    return {q: v / 1000 for q, v in scaled.items()}
