"""Storage: SQLAlchemy tables and repositories, Alembic migrations."""
