"""Vendor the web UI's JavaScript libraries from the npm registry into the package.

Each library is fetched with `npm pack` at the version pinned below; the file the UI loads
is copied to services/gateway/ui/static/vendor/, and VENDORED.json beside it records its
package, version, licence (its text beside it) and sha256. The pages load nothing from the internet.

    python scripts/vendor_ui.py
"""

import hashlib
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

VENDOR = Path(__file__).parent.parent / "services" / "gateway" / "ui" / "static" / "vendor"
# (package, version, file in the package, name in vendor/): htmx swaps page fragments,
# uPlot draws the time-series charts, dagre lays out graphs (pipelines, lineage).
LIBRARIES = [
    ("htmx.org", "2.0.9", "dist/htmx.min.js", "htmx.min.js"),
    ("uplot", "1.6.32", "dist/uPlot.iife.min.js", "uPlot.iife.min.js"),
    ("uplot", "1.6.32", "dist/uPlot.min.css", "uPlot.min.css"),
    ("@dagrejs/dagre", "3.1.4", "dist/dagre.min.js", "dagre.min.js"),
]


def main() -> None:
    VENDOR.mkdir(parents=True, exist_ok=True)
    record = [vendor(*library) for library in LIBRARIES]
    (VENDOR / "VENDORED.json").write_text(json.dumps(record, indent=2) + "\n")


def vendor(package: str, version: str, inside: str, name: str) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as work:
        packed = subprocess.run(  # noqa: S603  (the pinned names above)
            ["npm", "pack", f"{package}@{version}", "--json", "--silent"],  # noqa: S607
            cwd=work,
            check=True,
            capture_output=True,
            text=True,
        )
        tarball = Path(work) / json.loads(packed.stdout)[0]["filename"]
        with tarfile.open(tarball) as archive:
            meta = json.load(_member(archive, "package/package.json"))
            data = _member(archive, f"package/{inside}").read()
            licence = _member(archive, "package/LICENSE").read().decode()
    (VENDOR / name).write_bytes(data)
    licence_file = f"{package.replace('/', '-').lstrip('@')}.LICENSE"
    (VENDOR / licence_file).write_text(licence)
    return {
        "file": name,
        "package": package,
        "version": meta["version"],
        "license": meta.get("license") or licence.strip().splitlines()[0],
        "license_file": licence_file,
        "from": inside,
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def _member(archive: tarfile.TarFile, path: str) -> "tarfile.ExFileObject":
    member = archive.extractfile(path)
    if member is None:
        raise SystemExit(f"{path} is not a file in the package")
    return member  # type: ignore[return-value]


if __name__ == "__main__":
    main()
