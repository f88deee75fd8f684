"""Scenarios ported, in our own words, from other hot-reload tools' tests and issue trackers.

Each test says where its scenario comes from. Every scenario either passes or is
listed in docs/hot-reload.md ("Limitations") with the reason.
"""
