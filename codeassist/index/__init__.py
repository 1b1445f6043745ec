"""The durable index: SQLite store, incremental indexer, writer lock."""
