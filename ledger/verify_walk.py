"""The loop at the heart of `ledger.chain.scan_journal`: each entry's canonical text and hash,
its link and balance, and the sums of every posting, with as little Python per row as it
takes (this loop runs once per posting of the whole journal on every `fsf verify`).

The canonical text is `EntryContent.canonical`'s, byte for byte: postings are written with
each account's code and currency texts made once, then put in canonical order by the
accounts' code order (one cached permutation per sequence of accounts); only an entry that
names one account twice is sorted on the full key. A posting the fast text cannot take (a
NULL, an unknown account, a currency not its account's, a loan not its entry's) and a hash
that does not match are judged by `reference`, which reads the entry as the app does; so the
fast text can only ever confirm an entry, never condemn one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from contextlib import suppress
from itertools import chain as concat
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Any

from ledger.chain import (
    GENESIS_HASH,
    BrokenEntry,
    ChainReport,
    FirstPosting,
    JournalScan,
    PostingRow,
)

__all__ = ["walk"]

# A posting's text ends with its component; another component (not allowed by the schema)
# raises KeyError and sends the entry to `reference`.
_SUFFIX = {None: "null]", "principal": '"principal"]', "interest": '"interest"]',
           "fee": '"fee"]', "penalty": '"penalty"]'}
_ACCOUNT = itemgetter(1)

Sums = dict[tuple[int, str, int | None], int]
DaySums = dict[tuple[Any, str], int]
Shape = tuple[Callable[[list[str]], tuple[str, ...]] | None, bool]


class _Odd(Exception):
    """A posting the fast text does not take (see the module docstring)."""


def _unbalanced(group: list[PostingRow]) -> str | None:
    # Per-currency sums, for entries the single total cannot judge.
    sums: dict[str, int] = {}
    for p in group:
        sums[p[2]] = sums.get(p[2], 0) + p[3]
    bad = sorted((cur, total) for cur, total in sums.items() if total != 0)
    if bad:
        cur, total = bad[0]
        return f"its {cur} postings do not balance: they sum to {total} minor units, not 0"
    return None


def _other_loan(group: list[PostingRow], loan_id: int | None) -> str | None:
    # A loan's sums are read by the entries of that loan (`bulk_inputs.booked_minor`), so a
    # posting names no loan or its entry's.
    for number, p in enumerate(group, 1):
        if p[4] is not None and p[4] != loan_id:
            of = "no loan" if loan_id is None else f"loan id {loan_id}"
            return f"its posting {number} is for loan id {p[4]}, but the entry is of {of}"
    return None


def _text(value: int | None) -> str:
    return "null" if value is None else str(int(value))


def _add(sums: Sums, group: list[PostingRow]) -> None:
    # The slow, general sum, for postings the int keys do not take.
    for _, account_id, currency, amount, loan_id, _ in group:
        key = (account_id, currency, loan_id)
        with suppress(TypeError):  # not an amount at all: the chain check names the entry
            sums[key] = sums.get(key, 0) + amount


def _weigh(days: DaySums, occurred: Any, kind: str, group: list[PostingRow]) -> None:
    # The slow, general day checksum (see `JournalScan.days`).
    for _, account_id, _, amount, _, _ in group:
        with suppress(TypeError):
            days[(occurred, kind)] = days.get((occurred, kind), 0) + amount * account_id


class _Accounts:
    """Each account's text, currency and place in code order, made once per scan."""

    def __init__(self, accounts: dict[int, tuple[str, str]]) -> None:
        self.code = {i: code for i, (code, _) in accounts.items()}
        self.currency = {i: cur for i, (_, cur) in accounts.items()}
        self.prefix = {i: f"[{encode_basestring(code)},{encode_basestring(cur)},"
                       for i, (code, cur) in accounts.items()}
        self.rank = {i: n for n, i in enumerate(sorted(accounts, key=self.code.__getitem__))}
        # Sums of (account, loan) go under account + width * loan: ints hash cheaper.
        self.width = max(accounts, default=0) + 1
        self.shapes: dict[tuple[int, ...], Shape] = {}

    def shape(self, order: tuple[int, ...]) -> Shape:
        """How to put the texts of postings to these accounts in canonical order (None when
        an account comes twice), and whether they all keep one currency."""
        ranks = [self.rank[a] for a in order]
        getter = None
        if len(set(ranks)) == len(ranks):
            getter = itemgetter(*sorted(range(len(ranks)), key=ranks.__getitem__))
        shape = self.shapes[order] = (getter, len({self.currency[a] for a in order}) == 1)
        return shape

    def sorted_texts(self, group: list[PostingRow], texts: list[str]) -> str:
        """Texts in the full canonical order (account code, currency, amount, loan id,
        component), for entries that name an account twice."""
        keys = [(self.code[p[1]], p[2], p[3], -1 if p[4] is None else p[4], p[5] or "")
                for p in group]
        return ",".join([t for _, t in sorted(zip(keys, texts, strict=True))])

    def sums(self, by_int: dict[int, int], by_tuple: Sums) -> Sums:
        """All sums by (account id, currency, loan id)."""
        out = dict(by_tuple)
        for key, amount in by_int.items():
            if type(key) is not int:  # a loan id stored as a fraction: that entry is broken
                continue
            loan_id, account_id = divmod(key, self.width)
            full = (account_id, self.currency[account_id], loan_id or None)
            out[full] = out.get(full, 0) + amount
        return out


def walk(batches: Iterable[list[tuple[tuple[Any, ...], list[PostingRow]]]], keep: frozenset[str],
         first_of: frozenset[str], accounts: dict[int, tuple[str, str]],
         reversed_seq: dict[int, int | None], reference: Callable[[int, str], bool],
         sink: Callable[[FirstPosting], object] | None = None,
         start: tuple[str, int | None] = (GENESIS_HASH, None)) -> JournalScan:
    """Check and sum `batches` of (entry row, its postings) in chain order; see
    `scan_journal`.
    `accounts` maps id to (code, currency); `reference(entry id, previous hash)` checks one
    entry's hash the slow, sure way. With a `sink`, each first posting of the `first_of`
    kinds goes to it as it is met instead of into the result, so none is held. `start` is
    the (hash, seq) of the entry before the first of `batches` (a part of the journal)."""
    books = _Accounts(accounts)
    currency_of, prefix, width, shapes = books.currency, books.prefix, books.width, books.shapes
    by_int: dict[int, int] = {}
    by_tuple: Sums = {}
    days: DaySums = {}
    kept: dict[int, tuple[int, str, Any, int | None, int | None, tuple[PostingRow, ...]]] = {}
    firsts: list[FirstPosting] = []
    note = firsts.append if sink is None else sink
    sha256, enc, suffix = hashlib.sha256, encode_basestring, _SUFFIX
    (prev_hash, prev_seq), count = start, 0
    broken: BrokenEntry | None = None
    loan_texts: dict[int, str] = {}  # a loan's id as text, made once
    for row, group in concat.from_iterable(batches):
        eid, seq, kind, occurred, memo, by, at, loan_id, reverses_id, stored_prev, stored = row
        if kind in keep:
            kept[eid] = (seq, kind, occurred, loan_id, reverses_id, tuple(group))
        if kind in first_of and group:
            p = group[0]
            note((eid, occurred, loan_id, p[1], p[3], p[2], p[5]))
        if broken is not None:
            _add(by_tuple, group)  # the sums still count every posting
            _weigh(days, occurred, kind, group)
            continue
        texts: list[str] = []
        total, weighed, odd = 0, 0, False
        try:
            for _, account_id, cur, amount, plid, component in group:
                end = suffix[component]
                if cur != currency_of[account_id]:
                    raise _Odd
                if plid is None:
                    key, loan_text = account_id, "null"
                elif plid == loan_id and plid > 0:  # another loan: `_other_loan` names it
                    key = account_id + width * plid
                    loan_text = loan_texts.get(plid) or loan_texts.setdefault(plid, str(plid))
                else:
                    raise _Odd
                by_int[key] = by_int.get(key, 0) + amount
                total += amount
                weighed += amount * account_id
                texts.append(f"{prefix[account_id]}{amount},{loan_text},{end}")
            if len(texts) > 1:
                order = tuple(map(_ACCOUNT, group))
                getter, single = shapes.get(order) or books.shape(order)
                joined = (",".join(getter(texts)) if getter is not None
                          else books.sorted_texts(group, texts))
            else:
                joined, single = ",".join(texts), True
            rseq = "null" if reverses_id is None else _text(reversed_seq.get(eid))
            # What is hashed: the previous hash, a newline, the canonical text.
            text = (f'{prev_hash}\n{{"created_at":"{at[:10]}T{at[11:]}+00:00",'
                    f'"created_by":{enc(by)},"kind":{enc(kind)},'
                    f'"loan_id":{"null" if loan_id is None else loan_texts.get(loan_id, loan_id)},'
                    f'"memo":{enc(memo)},'
                    f'"occurred_on":"{occurred}","postings":[{joined}],'
                    f'"reverses_seq":{rseq},"seq":{seq}}}')
            hash_ok = sha256(text.encode()).hexdigest() == stored
            day = (occurred, kind)
            days[day] = days.get(day, 0) + weighed
        except (_Odd, TypeError, ValueError, KeyError, AttributeError):
            for _, account_id, _, amount, plid, _ in group[:len(texts)]:  # undo, then add slowly
                key = account_id if plid is None else account_id + width * plid
                by_int[key] -= amount
            _add(by_tuple, group)
            _weigh(days, occurred, kind, group)
            hash_ok, single, total, odd = False, False, 0, True
        if not hash_ok:  # the fast text only confirms; the app's own reading decides
            hash_ok = reference(eid, prev_hash)
        reason = None
        if prev_seq is not None and not seq > prev_seq:
            reason = f"seq {seq} does not follow seq {prev_seq}"
        elif stored_prev != prev_hash:
            reason = ("its link to the previous entry is broken (an entry before it was changed, "
                      "removed or inserted)")
        elif not hash_ok:
            reason = "its content no longer matches its hash (edited outside the app)"
        elif odd and (other := _other_loan(group, loan_id)) is not None:
            reason = other
        elif len(group) < 2:
            reason = f"it has {len(group)} posting(s); an entry needs at least two"
        elif not single or total != 0:
            try:
                reason = _unbalanced(group)
            except TypeError:
                reason = "its postings' amounts are not whole numbers of minor units"
        if reason is not None:
            broken = BrokenEntry(int(seq), int(eid), reason)
        else:
            count += 1
            prev_hash, prev_seq = stored, seq
    chain = ChainReport(count, None if prev_seq is None else int(prev_seq), prev_hash, broken)
    firsts.sort()
    return JournalScan(chain, books.sums(by_int, by_tuple), kept, firsts, days)
