"""The `notify:` target of a trigger: an HTTP webhook given the event as a CloudEvent, or a
Slack/Mattermost message rendered from a template. Checked when the spec is read.

A spec never holds a secret: the signing key, and a URL that is one (Slack's and
Mattermost's incoming-webhook URLs are), are named by an environment variable of the
trigger service (`BOXOPS_NOTIFY_…`), so `boxops triggers show` prints only the name.
"""

import re

from pydantic import Field, HttpUrl, field_validator, model_validator

from shared.durations import Duration
from shared.events import model_for
from shared.placeholders import REFERENCE
from shared.specs import Strict

ENV_PREFIX = "BOXOPS_NOTIFY_"
ENV_NAME = re.compile(rf"{ENV_PREFIX}[A-Z0-9_]+")
MAX_TIMEOUT_S = 300
BRACES = re.compile(r"\{\{|\}\}|\{%|%\}")


class Notify(Strict):
    url: HttpUrl | None = Field(None, description="Where to POST (http or https).")
    url_env: str | None = Field(
        None, description=f"Environment variable ({ENV_PREFIX}…) holding the URL, if secret."
    )
    text: str | None = Field(
        None,
        description='A Slack/Mattermost message `{"text": …}` with bindings such as '
        "`{{ event.run_id }}`; without it the event is POSTed as a CloudEvent.",
    )
    secret_env: str | None = Field(
        None,
        description=f"Environment variable ({ENV_PREFIX}…) holding the HMAC-SHA256 key the "
        "body is signed with (header X-Boxops-Signature-256: sha256=<hex>).",
    )
    attempts: int = Field(5, ge=1, le=50, description="Attempts before it is dead-lettered.")
    backoff: Duration = Field(2.0, gt=0, description="Wait before the first retry; doubled each.")
    max_backoff: Duration = Field(300.0, gt=0, description="Longest wait between attempts.")
    timeout: Duration = Field(10.0, gt=0, le=MAX_TIMEOUT_S, description="Time an attempt may take.")

    @field_validator("url_env", "secret_env")
    @classmethod
    def _env(cls, value: str | None) -> str | None:
        if value is not None and not ENV_NAME.fullmatch(value):
            raise ValueError(
                f"{value!r} is not an environment variable a notification may read: "
                f"its name starts with {ENV_PREFIX} (upper case, digits, _)"
            )
        return value

    @field_validator("text")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is not None:
            check_template(value)
        return value

    @model_validator(mode="after")
    def _one_url(self) -> "Notify":
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url or url_env")
        return self


def check_template(text: str) -> None:
    """Refuse braces that make no `{{ name.path }}` placeholder (an unclosed `{{`, a
    Jinja-style `{% … %}` or filter): they would be sent as they stand."""
    rest = REFERENCE.sub(lambda m: " " * len(m.group(0)), text)
    stray = BRACES.search(rest)
    if stray:
        raise ValueError(
            f"template error at character {stray.start() + 1}: {stray.group(0)!r} makes no "
            "placeholder; write {{ event.field }} (a dotted path, no filters or blocks)"
        )


def unknown_fields(text: str, subject: str) -> list[str]:
    """The `{{ event.<field> }}` of `text` that the contract of `subject` has no field for;
    nothing is known of wildcard and other systems' subjects."""
    model = model_for(subject) if "*" not in subject and ">" not in subject else None
    if model is None:
        return []
    unknown = []
    for ref in REFERENCE.findall(text):
        parts = ref.split(".")
        if parts[0] == "event" and len(parts) > 1 and parts[1] not in model.model_fields:
            fields = ", ".join(sorted(model.model_fields))
            unknown.append(f"{{{{ {ref} }}}}: {subject} has no field {parts[1]!r} ({fields})")
    return unknown
