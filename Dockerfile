# syntax=docker/dockerfile:1
# One image for all six services; docker-compose.yml picks one per container with `command`,
# e.g. `docker run boxops python -m services.scheduler`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /build
# Extras to install, e.g. `--build-arg EXTRAS=ray` for the Ray nodes and their executor.
ARG EXTRAS=""

# Dependencies first, against empty packages, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir boxops shared services \
    && touch boxops/__init__.py shared/__init__.py services/__init__.py \
    && pip install ".${EXTRAS:+[$EXTRAS]}" \
    && pip uninstall --yes boxops

COPY boxops boxops
COPY shared shared
COPY services services
RUN pip install --no-deps . && rm -rf /build

RUN useradd --create-home --uid 10001 --user-group boxops
USER boxops
# Where docker-compose.yml mounts the bus identities, and each one's own credentials in
# bus-init: a new volume takes the owner of its mount point.
RUN mkdir -m 700 /home/boxops/bus /home/boxops/apart \
    && for name in registry artifact scheduler trigger executor gateway admin; do \
        mkdir -m 700 "/home/boxops/apart/$name"; done
# Run from the home directory so imports come from the installed package, not a source tree.
WORKDIR /home/boxops

EXPOSE 8765
CMD ["python", "-m", "services.gateway"]
