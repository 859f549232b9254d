"""The specification's regression check (scripts/check-regression.py), same interface and output.

    python scripts/check-regression.py --baseline-file performance-baseline.json \
        --current-results performance-results.json [--threshold 0.15]

Prints the specification's lines, exits 1 on a regression and 0 otherwise; a missing or
malformed file is one `error: ...` line on stderr and exit 2. The logic is
`planning.regress.check`, shared with `pincex regress check`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from planning.regress.check import ResultsError, check_regression, load_results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline-file", required=True)
    parser.add_argument("--current-results", required=True)
    parser.add_argument("--threshold", type=float, default=0.15)
    args = parser.parse_args(argv)
    try:
        result = check_regression(
            load_results(args.baseline_file, "baseline"),
            load_results(args.current_results, "current results"),
            args.threshold,
            baseline_name=f"baseline file {args.baseline_file}",
            current_name=f"current results file {args.current_results}",
        )
    except ResultsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for line in result.lines():
        print(line)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
