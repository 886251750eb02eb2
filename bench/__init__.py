"""The benchmark suite: a seeded national-scale ledger and timings of the project's operations,
each beside a baseline doing the same work in the same run (`python -m bench`)."""
