"""PRD2xx: N+1 queries (a query per loop iteration, relations loaded lazily per row)."""
