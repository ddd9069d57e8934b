"""One test per row of DESIGN.md's claims table: the claimed direction, paired by seed.

Each row runs its preset with the practice present and absent at the same seeds and asserts,
for every metric the claim names, that the 99% bootstrap interval of the mean paired difference
excludes zero on the claimed side (poolpilot.analysis.claims, with poolpilot.analysis.paired). Nothing in the model knows about these
tests: the directions come out of the mechanisms.
"""

from __future__ import annotations

import pytest

from poolpilot.analysis.claims import CLAIMS, evaluate

#: DESIGN.md's rows ("1" to "14"), then claims an issue asked for ("16.4": issue 16, point 4)
ROWS = sorted({c.row for c in CLAIMS}, key=lambda row: [int(part) for part in row.split(".")])


def test_every_row_of_the_design_table_is_covered():
    assert [str(n) for n in range(1, 15)] == [row for row in ROWS if row.isdigit()]


def test_claim_numbers_are_unique():
    numbers = [c.number for c in CLAIMS]
    assert len(numbers) == len(set(numbers))


@pytest.mark.parametrize("row", ROWS)
def test_claim(row):
    for claim in (c for c in CLAIMS if c.row == row):
        result = evaluate(claim)
        failed = result[~result["holds"]]
        assert failed.empty, (
            f"claim {row} ({claim.practice}): expected {claim.expected}; measured\n"
            + failed[
                ["metric", "expected", "present_mean", "absent_mean", "ci_low", "ci_high"]
            ].to_string(index=False)
        )
