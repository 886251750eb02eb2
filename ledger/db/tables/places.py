"""Places: province > district > commune > village, with the gazetteer year codes come from.

Village codes are not unique (the gazetteer repeats some), so a village has a surrogate id; a
village entered by hand has `in_gazetteer = False` and may have no code at all.
"""

from sqlmodel import Field, SQLModel

__all__ = ["Commune", "District", "Province", "Village"]


class Province(SQLModel, table=True):
    """A province or the capital, keyed by its official code (e.g. "17" Siem Reap)."""

    __tablename__ = "province"

    code: str = Field(primary_key=True, max_length=8)
    name_kh: str
    name_en: str
    gazetteer_year: int | None = None


class District(SQLModel, table=True):
    """A district (srok/khan/krong) of a province."""

    __tablename__ = "district"

    code: str = Field(primary_key=True, max_length=8)
    province_code: str = Field(foreign_key="province.code", index=True, max_length=8)
    name_kh: str
    name_en: str
    gazetteer_year: int | None = None


class Commune(SQLModel, table=True):
    """A commune (khum/sangkat) of a district; `gazetteer_year` None when not listed itself."""

    __tablename__ = "commune"

    code: str = Field(primary_key=True, max_length=8)
    district_code: str = Field(foreign_key="district.code", index=True, max_length=8)
    name_kh: str
    name_en: str
    gazetteer_year: int | None = None


class Village(SQLModel, table=True):
    """A village (phum). `code` repeats in the gazetteer and is None for unlisted villages."""

    __tablename__ = "village"

    id: int | None = Field(default=None, primary_key=True)
    code: str | None = Field(default=None, index=True, max_length=10)
    commune_code: str = Field(foreign_key="commune.code", index=True, max_length=8)
    name_kh: str
    name_en: str
    gazetteer_year: int | None = None
    in_gazetteer: bool = False
