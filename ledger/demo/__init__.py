"""The demo ledger's plan: villages, families, loans and their stories, capital and grants.

Pure data for `fsf demo`; a builder elsewhere posts it through the ledger's services.
"""

from ledger.demo.names import Sex, draw_name
from ledger.demo.plan import build_plan
from ledger.demo.records import (
    AS_OF,
    DemoBehaviour,
    DemoCapital,
    DemoFamily,
    DemoGrant,
    DemoLoan,
    DemoPlan,
    DemoRecovery,
    DemoRepayment,
    DemoReschedule,
    DemoVillage,
    DemoWriteOff,
    GrantPurpose,
    PaymentKind,
    RepaymentBehaviour,
)

__all__ = [
    "AS_OF",
    "DemoBehaviour",
    "DemoCapital",
    "DemoFamily",
    "DemoGrant",
    "DemoLoan",
    "DemoPlan",
    "DemoRecovery",
    "DemoRepayment",
    "DemoReschedule",
    "DemoVillage",
    "DemoWriteOff",
    "GrantPurpose",
    "PaymentKind",
    "RepaymentBehaviour",
    "Sex",
    "build_plan",
    "draw_name",
]
