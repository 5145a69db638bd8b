"""Request-wide mechanisms: request ids, error shaping, body validation."""
