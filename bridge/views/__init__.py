"""The HTTP views: thin handlers on top of everything else, reading state through bridge.keys."""
