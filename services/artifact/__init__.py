"""The artifact service."""
