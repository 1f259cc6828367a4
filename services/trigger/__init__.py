"""The trigger service."""
