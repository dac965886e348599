"""`python -m bridge` does what the `woo-bridge` command does."""

from bridge.cli import main

raise SystemExit(main())
