"""A bench-only Django app: the cheapest possible "accept a submission" view, to compare with the
real concern form. Never installed in the project; bench/submissions.py serves it through
bench.bareapp.settings."""
