"""The building blocks of the scenario schema: the base section and the shared field types.

Money is in the scenario's ``currency`` unit; rates and shares are fractions in [0, 1]; time is
in months. ``schema.py`` (the pilot) and ``governance.py`` (its rules) are built from these.

Sizes have generous upper bounds (``CAPS``): a value beyond them is a typo or a unit slip, and
would make the model's arithmetic lose cents or overflow (a contribution of 1e308 ran, then
every run failed with an OverflowError naming no field).
"""

from __future__ import annotations

from functools import cache
from numbers import Integral
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Largest amount of money in any field (currency units): no pilot comes near it, and the
#: ledger counts cents exactly in floating point only up to about 9e13 units.
MAX_MONEY = 1e12
#: Most people in a segment: more than the population of almost every country.
MAX_PEOPLE = 100_000_000
#: Most units of service a provider or own line can deliver per month.
MAX_CAPACITY = 1e9
#: Most units of one service needed per person per month.
MAX_NEED_RATE = 1e6

#: Each bound: how it is written, and why it is there (in problems and the reference).
CAPS: dict[float, tuple[str, str]] = {
    MAX_MONEY: ("1e12", "no pilot is larger, and the ledger counts cents exactly only below 9e13"),
    MAX_PEOPLE: ("1e8", "more than any pilot serves: a larger number is a slip of units or digits"),
    MAX_CAPACITY: (
        "1e9",
        "more than any provider delivers: a larger number is a slip of units or digits",
    ),
    MAX_NEED_RATE: ("1e6", "more than anyone needs: a larger number is a slip of units or digits"),
}

Money = Annotated[float, Field(ge=0, le=MAX_MONEY)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Months = Annotated[int, Field(ge=0, le=600)]
People = Annotated[int, Field(ge=0, le=MAX_PEOPLE)]
Capacity = Annotated[float, Field(ge=0, le=MAX_CAPACITY)]
NeedRate = Annotated[float, Field(ge=0, le=MAX_NEED_RATE)]
Name = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.\- ]+$")]


class Section(BaseModel):
    """Base of every scenario section: unknown keys are errors, values are validated on set.

    Values are taken as given (``strict``): a number field refuses text and booleans, a flag
    refuses numbers and text, a whole number refuses 2.5 (an int is fine where a number is
    asked for, and 36.0 where a whole number is). Otherwise ``yes`` would count as 1 and
    ``"12"`` as 12 without a word. Numbers must be finite: an infinite contribution or a NaN
    bound would run and give nonsense.
    """

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, allow_inf_nan=False, strict=True
    )

    @model_validator(mode="before")
    @classmethod
    def _whole_numbers(cls, data: Any) -> Any:
        """A whole number written with a point (36.0, 1.5e4) or held by numpy is a whole number."""
        if not isinstance(data, dict):
            return data
        whole = _whole_fields(cls)
        out = dict(data)
        for name in whole.intersection(data):
            value = data[name]
            if isinstance(value, bool):
                continue
            if isinstance(value, Integral) or (
                isinstance(value, float) and value.is_integer() and abs(value) < 2**53
            ):
                out[name] = int(value)
        return out


@cache
def _whole_fields(section: type[BaseModel]) -> frozenset[str]:
    """A section's whole-number fields, found once: reading ``model_fields`` each time made
    this check most of a scenario's validation, which every run of a study repeats."""
    return frozenset(n for n, info in section.model_fields.items() if info.annotation is int)
