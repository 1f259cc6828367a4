"""Where a service answers whether it is up: a subject name, and nothing heavier.

`boxops status` asks every service; it imports this module, not the query contracts.
"""


def health_subject(service: str) -> str:
    return f"svc.{service}.health"
