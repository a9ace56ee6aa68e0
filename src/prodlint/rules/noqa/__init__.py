"""PRD0xx: about prodlint's own suppressions (PRD000, "cannot check", is not a rule)."""
