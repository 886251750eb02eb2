"""Widgets the screens share: the top bar, the paged table, charts and money cells."""
