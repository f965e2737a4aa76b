"""Alembic migrations for the dxrx store, shipped in the package and run at start-up."""
