"""Photos from the field: stored by their SHA-256, attached to complaints, orders and patrols."""
