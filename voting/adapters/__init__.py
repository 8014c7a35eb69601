"""Edges to the outside: the database (SQLAlchemy models, engine, Alembic migrations)."""
