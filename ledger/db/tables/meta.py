"""Key/value facts about the ledger itself: its name, whether it is a demo, when it was made."""

from sqlmodel import Field, SQLModel

__all__ = ["AppMeta"]


class AppMeta(SQLModel, table=True):
    """One fact about this ledger, e.g. `("ledger_name", "Siem Reap")`, `("demo", "true")`."""

    __tablename__ = "app_meta"

    key: str = Field(primary_key=True, max_length=60)
    value: str
