"""The building blocks of the scenario schema: the base section and the shared field types.

Money is in the scenario's ``currency`` unit; rates and shares are fractions in [0, 1]; time is
in months. ``schema.py`` (the pilot) and ``governance.py`` (its rules) are built from these.
"""

from __future__ import annotations

from numbers import Integral
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

Money = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Months = Annotated[int, Field(ge=0, le=600)]
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
        out = dict(data)
        for name, value in data.items():
            info = cls.model_fields.get(name) if isinstance(name, str) else None
            if info is None or info.annotation is not int or isinstance(value, bool):
                continue
            if isinstance(value, Integral) or (
                isinstance(value, float) and value.is_integer() and abs(value) < 2**53
            ):
                out[name] = int(value)
        return out
