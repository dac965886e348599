"""Every test here runs on both storage backends (tests/backends.py)."""

from tests.backends import backend, clock, store  # noqa: F401 - fixtures
