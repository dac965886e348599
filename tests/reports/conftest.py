"""Tests that drive a store directly run on both storage backends (tests/backends.py)."""

from tests.backends import backend  # noqa: F401 - fixture
