"""The bus's identities: a user and password per service, the operator's, and ingress
identities for other systems; made at first use and kept under `<home>/bus`, readable by
this user only. The NATS server's config and each identity's credentials file are
written from them.

Passwords, not NKeys: nats-py and every NATS client take a user and password with no
extra library, and the server only ever listens on this machine. They stand in plain text
in the server's config (bcrypt would need a dependency): that file sits, 0600, beside the
credentials files that hold the same passwords, so a hash would protect nothing more.
A credentials file is `KEY=value` lines (NATS_URL, NATS_USER, NATS_PASSWORD,
NATS_INBOX_PREFIX): a shell can source it, `docker --env-file` reads it, and the `nats`
CLI reads those variables.
"""

import json
import os
import secrets
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from boxops.home import bus_dir, credentials_file
from shared import bus_permissions as bp


@dataclass(frozen=True)
class Identity:
    user: str
    password: str
    publish: tuple[str, ...] = ()  # a made ingress identity's; the others' come from code

    @property
    def permissions(self) -> bp.Permissions:
        if self.user in bp.SERVICES:
            return bp.service(self.user)
        if self.user == bp.ADMIN:
            return bp.admin()
        if self.user == bp.INGRESS:  # the default one: every public subject, as code says
            return bp.ingress(self.user, bp.PUBLIC_SUBJECTS)
        return bp.ingress(self.user, self.publish)


def server_config_file(root: Path) -> Path:
    return bus_dir(root) / "nats.conf"


def _store(root: Path) -> Path:
    return bus_dir(root) / "identities.json"


def load(root: Path) -> dict[str, Identity]:
    """Every identity, those a first start needs made now."""
    try:
        stored = json.loads(_store(root).read_text())
    except FileNotFoundError:
        stored = {}
    identities = {
        user: Identity(user, fields["password"], tuple(fields.get("publish", ())))
        for user, fields in stored.items()
    }
    missing = [user for user in (*bp.SERVICES, bp.ADMIN, bp.INGRESS) if user not in identities]
    if missing:
        identities = {user: Identity(user, _password()) for user in missing} | identities
        _save(root, identities)
    return identities


def add_ingress(root: Path, subjects: tuple[str, ...]) -> Identity:
    """A new ingress identity allowed `subjects` (ValueError names any not public)."""
    identities = load(root)
    user = f"{bp.INGRESS}-{secrets.token_hex(4)}"
    identity = Identity(user, _password(), subjects)
    bp.ingress(user, subjects)  # refuses subjects that are not public
    _save(root, {**identities, user: identity})
    return identity


def server_config(identities: dict[str, Identity]) -> str:
    """nats-server's authorization block (its config format reads JSON)."""
    users = [
        {
            "user": identity.user,
            "password": identity.password,
            "permissions": _nats_permissions(identity.permissions),
        }
        for identity in identities.values()
    ]
    return json.dumps({"authorization": {"users": users}}, indent=2)


def _nats_permissions(permissions: bp.Permissions) -> dict[str, object]:
    rules: dict[str, object] = {
        "publish": {"allow": list(permissions.publish)},
        "subscribe": {"allow": list(permissions.subscribe)},
    }
    if permissions.allow_responses:
        rules["allow_responses"] = True
    return rules


def credentials(identity: Identity, nats_url: str) -> str:
    return (
        f"NATS_URL={nats_url}\nNATS_USER={identity.user}\nNATS_PASSWORD={identity.password}\n"
        f"NATS_INBOX_PREFIX={bp.inbox_prefix(identity.user)}\n"
    )


def write_all(root: Path, nats_url: str, apart: Path | None = None) -> dict[str, Identity]:
    """The server's config and every identity's credentials file, as they are now; with
    `apart`, each service's and the operator's also alone in `apart/<user>/` (compose
    mounts each such folder, a volume, into its owner's container only)."""
    identities = load(root)
    write_private(server_config_file(root), server_config(identities))
    for identity in identities.values():
        write_private(credentials_file(root, identity.user), credentials(identity, nats_url))
    if apart is not None:
        for user in (*bp.SERVICES, bp.ADMIN):
            text = credentials(identities[user], nats_url)
            write_private(apart / user / f"{user}.env", text)
    return identities


def write_private(path: Path, text: str) -> None:
    """Write a file only this user can read, never readable by others even for a moment."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # A new file of a random name (mkstemp: O_EXCL, mode 0600), never one found there: an
    # existing `.tmp` (or a link) would keep its own mode.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _save(root: Path, identities: dict[str, Identity]) -> None:
    stored = {user: asdict(identity) for user, identity in identities.items()}
    write_private(_store(root), json.dumps(stored, indent=2))


def _password() -> str:
    return secrets.token_urlsafe(32)


def main() -> None:
    """`python -m boxops.bus_auth HOME NATS_URL [APART]`: make or keep the identities under
    HOME/bus and write the server config and credentials files, each service's and the
    operator's also alone under APART/<user>/ (docker-compose.yml runs it before NATS
    starts)."""
    root, nats_url = sys.argv[1:3]
    apart = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    identities = write_all(Path(root), nats_url, apart)
    print(f"bus identities in {bus_dir(Path(root))}: {', '.join(sorted(identities))}")


if __name__ == "__main__":
    main()
