"""Persistence behind one interface: SQLite (aiosqlite) by default, content-addressed image files."""
