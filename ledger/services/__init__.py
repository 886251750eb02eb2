"""Use cases of the ledger: each is one function, one transaction, taking the acting user.

Modules: places, families, funds, products, loans (apply/approve/disburse), repayments
(record/reverse/payoff), writeoffs (write off/recover), reschedule; `loan_book` reads a loan back.
"""
