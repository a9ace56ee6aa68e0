"""Rule modules, one per rule, grouped in one package per family. Discovered by the registry."""
