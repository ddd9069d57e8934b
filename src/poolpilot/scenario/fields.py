"""The building blocks of the scenario schema: the base section and the shared field types.

Money is in the scenario's ``currency`` unit; rates and shares are fractions in [0, 1]; time is
in months. ``schema.py`` (the pilot) and ``governance.py`` (its rules) are built from these.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Money = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Months = Annotated[int, Field(ge=0, le=600)]
Name = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.\- ]+$")]


class Section(BaseModel):
    """Base of every scenario section: unknown keys are errors, values are validated on set.

    Numbers must be finite: an infinite contribution or a NaN bound would run and give nonsense.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)
