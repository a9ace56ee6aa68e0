"""PRD3xx: sockets, connections, sessions and files not closed on every path."""
