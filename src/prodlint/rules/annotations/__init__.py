"""PRD6xx: `Any` in annotations, with fixes that propose the type the code itself implies."""
