"""Operators' commands of `tijori` that talk to a running stack's API."""
