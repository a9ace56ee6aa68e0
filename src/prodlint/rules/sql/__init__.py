"""PRD1xx: SQL built from strings that reaches a database call (SQL injection)."""
