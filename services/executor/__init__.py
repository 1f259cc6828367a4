"""The executor: starts dispatched runs as local processes and reports what they do."""
