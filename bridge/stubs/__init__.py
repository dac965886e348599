"""Fakes of the services the bridge talks to, for tests and local demos only."""
