"""What the program talks to outside itself: the database and its URL, the event store's settings and
value encodings, migrations, token and idempotency-key tables, and the policy file."""
