"""Local stand-ins for the services the bridge talks to, for tests and the demo."""
