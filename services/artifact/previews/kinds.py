"""Which blobs get a preview, judged by name and media type alone (pure)."""

from pathlib import PurePosixPath

from shared.artifacts import VISUALISATION_TYPES

SUFFIXES = {
    ".csv": "dataframe",
    ".tsv": "dataframe",
    ".parquet": "dataframe",
    ".pq": "dataframe",
    ".npy": "array",
    ".npz": "array",
    ".json": "json",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".gif": "image",
    ".bmp": "image",
    ".webp": "image",
    ".tif": "image",
    ".tiff": "image",
}
MEDIA_TYPES = {
    "text/csv": "dataframe",
    "text/tab-separated-values": "dataframe",
    "application/vnd.apache.parquet": "dataframe",
    "application/x-parquet": "dataframe",
    "application/x-npy": "array",
    "application/json": "json",
    **dict.fromkeys(VISUALISATION_TYPES.values(), "json"),
}


def kind_of(name: str | None, media_type: str | None) -> str | None:
    """dataframe, array, json or image; None for blobs without a preview."""
    if media_type:
        bare = media_type.split(";", 1)[0].strip().lower()
        if bare in MEDIA_TYPES:
            return MEDIA_TYPES[bare]
        if bare.startswith("image/"):
            return "image"
    if name:
        return SUFFIXES.get(PurePosixPath(name).suffix.lower())
    return None
