"""HdrHistogram helpers: record many samples at once, encode, merge, read percentiles."""

from __future__ import annotations

import base64
import binascii
import math
import struct
import zlib
from collections.abc import Iterable
from typing import Any

import numpy as np
from hdrh.histogram import HdrHistogram, get_bucket_count

__all__ = [
    "HIGHEST_US",
    "LOWEST_US",
    "SIGNIFICANT_FIGURES",
    "buckets",
    "check_encoded",
    "decode",
    "encode",
    "merge",
    "new_histogram",
    "percentiles_ms",
    "record_us",
]

LOWEST_US = 1
HIGHEST_US = 3_600_000_000
SIGNIFICANT_FIGURES = 3


def new_histogram() -> Any:
    """An empty histogram of microseconds, 1 µs to one hour, 3 significant figures."""
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES)


def record_us(histogram: Any, values_us: Iterable[float] | np.ndarray[Any, Any]) -> None:
    """Record many microsecond samples at once (vectorised `record_value`; clipped to range)."""
    values = np.asarray(values_us, dtype=np.float64)
    if values.size == 0:
        return
    ints = np.clip(np.rint(values), LOWEST_US, HIGHEST_US).astype(np.int64)
    h = histogram
    unit = h.unit_magnitude
    half_mag = h.sub_bucket_half_count_magnitude
    ored = ints | h.sub_bucket_mask
    # bit length of (value | mask): 64 - clz
    pow2ceiling = np.floor(np.log2(ored.astype(np.float64))).astype(np.int64) + 1
    bucket = pow2ceiling - unit - (half_mag + 1)
    sub_bucket = ints >> (bucket + unit)
    index = ((bucket + 1) << half_mag) + (sub_bucket - h.sub_bucket_half_count)
    counts = np.ctypeslib.as_array(h.counts)
    added = np.bincount(index, minlength=h.counts_len)[: h.counts_len]
    counts += added.astype(counts.dtype)
    h.total_count += int(ints.size)
    h.min_value = min(h.min_value, int(ints.min()))
    h.max_value = max(h.max_value, int(ints.max()))


def encode(histogram: Any) -> str:
    """The histogram as text (HdrHistogram V2, compressed, base64)."""
    return bytes(histogram.encode()).decode("ascii")


def decode(text: str) -> Any:
    """A histogram back from the text of `encode`."""
    return HdrHistogram.decode(text.encode("ascii"))


_OUTER = struct.Struct(">II")  # cookie, length of the compressed payload
_INNER = struct.Struct(">IIIIQQd")  # cookie, payload length, offset, figures, lowest, highest
_COMPRESSION_COOKIE = 0x1C849304
_ENCODING_COOKIE = 0x1C849303
_MAX_VARINT_BYTES = 9  # LEB128 + ZigZag, per count


def buckets(lowest: int, highest: int, significant_figures: int) -> int:
    """How many counts an HdrHistogram of this range holds (`counts_len`), without making it."""
    unit_magnitude = math.floor(math.log(lowest) / math.log(2))  # as hdrh computes them
    sub_bucket_magnitude = math.ceil(math.log(2 * 10**significant_figures) / math.log(2))
    sub_bucket_count = 1 << max(sub_bucket_magnitude, 1)
    count: int = get_bucket_count(highest, sub_bucket_count, unit_magnitude)
    return (count + 1) * (sub_bucket_count // 2)


def check_encoded(text: str, max_buckets: int) -> None:
    """ValueError (its reason, in words) unless `text` is an encoded histogram of at most
    `max_buckets` counts; it is decompressed and decoded only within that bound."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise ValueError("is not base64") from None
    if len(raw) < _OUTER.size:
        raise ValueError("is too short for a histogram")
    cookie, length = _OUTER.unpack_from(raw)
    if cookie & ~0xF0 != _COMPRESSION_COOKIE or length != len(raw) - _OUTER.size:
        raise ValueError("is not a compressed HdrHistogram (V2)")
    most = _INNER.size + _MAX_VARINT_BYTES * max_buckets
    inflate = zlib.decompressobj()
    try:
        payload = inflate.decompress(raw[_OUTER.size :], most + 1)
    except zlib.error as exc:
        raise ValueError(f"does not decompress ({exc})") from None
    if len(payload) > most or inflate.unconsumed_tail:
        raise ValueError(f"decompresses to more than {most:,} bytes ({max_buckets:,} buckets)")
    if len(payload) < _INNER.size:
        raise ValueError("is too short for a histogram")
    cookie, _, _, figures, lowest, highest, _ = _INNER.unpack_from(payload)
    if cookie & ~0xF0 != _ENCODING_COOKIE:
        raise ValueError("is not an HdrHistogram (V2)")
    if not (1 <= figures <= 5 and lowest >= 1 and highest >= 2 * lowest):
        raise ValueError(
            f"has an impossible range ({lowest} to {highest}, {figures} significant figures)"
        )
    held = buckets(lowest, highest, figures)
    if held > max_buckets:
        raise ValueError(f"has {held:,} buckets; at most {max_buckets:,}")
    try:
        decode(text)
    except Exception as exc:
        raise ValueError(f"does not decode ({exc})") from None


def merge(encoded: Iterable[str]) -> Any:
    """One histogram holding every sample of the given encoded histograms."""
    total = new_histogram()
    for text in encoded:
        total.add(decode(text))
    return total


def percentiles_ms(histogram: Any, percentiles: Iterable[float]) -> dict[float, float]:
    """Percentiles (0-100) of a microsecond histogram, in milliseconds.

    The same values as `get_value_at_percentile`, found with one cumulative sum.
    """
    wanted = [float(p) for p in percentiles]
    total = int(histogram.get_total_count())
    if total == 0:
        return {p: 0.0 for p in wanted}
    cumulative = np.cumsum(np.ctypeslib.as_array(histogram.counts))
    result: dict[float, float] = {}
    for p in wanted:
        target = max(int(min(p, 100.0) * total / 100 + 0.5), 1)
        index = int(np.searchsorted(cumulative, target, side="left"))
        value = histogram.get_value_from_index(index)
        if p:
            value = histogram.get_highest_equivalent_value(value)
        else:
            value = histogram.get_lowest_equivalent_value(value)
        result[p] = value / 1000.0
    return result
