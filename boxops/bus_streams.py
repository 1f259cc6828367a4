"""`python -m boxops.bus_streams`: declare the bus's JetStream streams as the operator
(BOXOPS_NATS_URL, BOXOPS_NATS_CREDENTIALS: the admin identity), before services start.
docker-compose.yml runs it once NATS is up; `boxops up` does the same itself. A service's
identity may only check that the streams exist (shared/bus_permissions.py)."""

import asyncio

from shared.service import declare_streams
from shared.settings import BoxopsSettings


def main() -> None:
    settings = BoxopsSettings()
    asyncio.run(declare_streams(settings))
    print(f"streams declared on {settings.nats_url}")


if __name__ == "__main__":
    main()
