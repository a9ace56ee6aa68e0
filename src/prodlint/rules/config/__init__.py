"""PRD4xx: configuration hardcoded in the code (service addresses, secrets, timeouts,
TLS and debug switches) that a deployment must be able to set."""
