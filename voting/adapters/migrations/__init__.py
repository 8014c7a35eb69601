"""Alembic migrations, applied by `voting init` (see voting.adapters.schema)."""
