"""Read models built from the notification log (one module per view)."""
