"""The executor's artifact store: the gateway's /v1/artifacts through boxops.artifacts
(streamed both ways, every download digest-checked)."""

from pathlib import Path

from boxops.artifacts import AsyncArtifacts, LocalFile
from shared.events import FileEntry


class GatewayBlobs:
    def __init__(self, gateway_url: str, token: str) -> None:
        self.client = AsyncArtifacts(gateway_url, token)

    async def get(self, sha256: str, dest: Path) -> None:
        await self.client.get(sha256, dest)

    async def put(self, path: Path, name: str, media_type: str | None = None) -> FileEntry:
        info = await self.client.put_file(path, name=name, media_type=media_type)
        return FileEntry(path=name, size=info.size, sha256=info.sha256)

    async def put_many(self, files: list[tuple[str, Path]]) -> list[FileEntry]:
        infos = await self.client.put_files([LocalFile(path, name) for name, path in files])
        return [
            FileEntry(path=name, size=info.size, sha256=info.sha256)
            for (name, _), info in zip(files, infos, strict=True)
        ]

    async def bind(self, key: str, sha256: str) -> None:
        await self.client.bind(key, sha256)

    async def close(self) -> None:
        await self.client.close()
