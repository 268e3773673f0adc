"""Operators' tools that read a stack's own tables and queues: the report with charts."""
