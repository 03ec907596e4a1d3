"""The Images and Media tables: Act-On's folders of entries (`GET /api/1/image`, `GET /api/1/media/`).

The list endpoints take no parameters and answer every folder at once, so a scan is one call; FolderName
`=`/`IN` keep the named folders' groups (exact: the folder is each group's `name`). Image `Id` `=`/`IN` use
`GET /api/1/image/{id}`, one call per id, when the scan needs no Width or Height (the single-image reply has
neither). Images are written with multipart calls: INSERT uploads (`file`, `name`, `foldername`) the bytes of
the `File` column — a BLOB value, never a path, so a client of `duckfed serve` can't make the server read its
own files — UPDATE moves (`foldername`) or replaces (`file` with `ignorefolder=Y`), DELETE removes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from connectors.acton import client
from connectors.acton.base import MAX_LOOKUPS, ActOnTable, reads
from connectors.acton.query import path_segment, texts, value_set
from connectors.acton.types import BYTES, LOOKUP, MILLIS, TEXT, WHOLE, batch, column
from federation.errors import Error
from federation.table import ScanRequest, TableInfo, WriteResult

IMAGE_COLUMNS = (
    column(
        "Id",
        TEXT,
        nullable=False,
        primary_key=True,
        pushdown=LOOKUP,
        exact=True,
        insertable=True,
        description="The image's id, assigned by Act-On; a value given on INSERT (the vendor's example passes "
        "a placeholder) is ignored.",
    ),
    column("FolderName", TEXT, pushdown=LOOKUP, exact=True, insertable=True, updatable=True),
    column("Name", TEXT, insertable=True, description="The image's name (default: Act-On names it)."),
    column("CreationTime", MILLIS),
    column("LastModified", MILLIS),
    column("ImageUrl", TEXT),
    column("ThumbUrl", TEXT),
    column("Size", WHOLE),
    column("Width", WHOLE),
    column("Height", WHOLE),
    column(
        "File",
        BYTES,
        insertable=True,
        updatable=True,
        required=True,
        description="The image's bytes (a BLOB) to upload or replace; always NULL when read.",
    ),
)
MEDIA_COLUMNS = (
    column("Id", TEXT, nullable=False, primary_key=True),
    column("FolderName", TEXT, pushdown=LOOKUP, exact=True),
    column("Name", TEXT),
    column("Url", TEXT),
    column("TargetUrl", TEXT, description="Where a link item points (NULL for files)."),
    column("Size", WHOLE),
    column("CreationTime", MILLIS),
    column("LastModified", MILLIS),
)
_TYPES = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF8": "image/gif", b"BM": "image/bmp"}


def _image_row(entry: Mapping[str, Any], folder: str) -> dict[str, object]:
    return {
        "Id": entry.get("id"),
        "FolderName": folder,
        "Name": entry.get("name"),
        "CreationTime": entry.get("creation_time"),
        "LastModified": entry.get("last_modified"),
        "ImageUrl": entry.get("url"),
        "ThumbUrl": entry.get("thumb"),
        "Size": entry.get("size"),
        "Width": entry.get("width"),
        "Height": entry.get("height"),
    }


def _single_image_row(item: Mapping[str, Any]) -> dict[str, object]:
    return {
        "Id": item.get("id"),
        "FolderName": item.get("folder_name"),
        "Name": item.get("display_name"),
        "CreationTime": item.get("creation_time"),
        "LastModified": item.get("last_modified"),
        "ImageUrl": item.get("image_url"),
        "ThumbUrl": item.get("thumb_url"),
        "Size": item.get("size"),
    }


def _media_row(entry: Mapping[str, Any], folder: str) -> dict[str, object]:
    return {
        "Id": entry.get("id"),
        "FolderName": folder,
        "Name": entry.get("name"),
        "Url": entry.get("url"),
        "TargetUrl": entry.get("target_url"),
        "Size": entry.get("size"),
        "CreationTime": entry.get("creation_time"),
        "LastModified": entry.get("last_modified"),
    }


def _content_type(content: bytes) -> str:
    return next((kind for magic, kind in _TYPES.items() if content.startswith(magic)), "application/octet-stream")


class FoldersTable(ActOnTable):
    """A table read from one folders-of-entries call."""

    path = ""
    operation = client.LIST_IMAGES

    def row(self, entry: Mapping[str, Any], folder: str) -> dict[str, object]:
        raise NotImplementedError

    def grouped(self, request: ScanRequest) -> list[dict[str, object]]:
        folders = value_set(request.predicate, "FolderName")
        rows: list[dict[str, object]] = []
        for group in self.call("GET", self.path, self.operation):
            if folders is None or group.get("name") in folders:
                rows.extend(self.row(entry, str(group.get("name"))) for entry in group.get("entries", ()))
        return rows

    def rows(self, request: ScanRequest) -> list[dict[str, object]]:
        return self.grouped(request)

    def scan(self, request: ScanRequest) -> pa.RecordBatchReader:
        wanted = self.wanted(request)
        schema = self.schema(wanted)

        def batches() -> Any:
            yield batch(self.rows(request), wanted)

        return pa.RecordBatchReader.from_batches(schema, batches())


class MediaTable(FoldersTable):
    path = "/api/1/media/"
    operation = client.LIST_MEDIA

    def row(self, entry: Mapping[str, Any], folder: str) -> dict[str, object]:
        return _media_row(entry, folder)


class ImagesTable(FoldersTable):
    path = "/api/1/image"

    def row(self, entry: Mapping[str, Any], folder: str) -> dict[str, object]:
        return _image_row(entry, folder)

    def rows(self, request: ScanRequest) -> list[dict[str, object]]:
        ids = texts(value_set(request.predicate, "Id"))
        if ids is None or len(ids) > MAX_LOOKUPS or reads(request) & {"Width", "Height"}:
            return self.grouped(request)
        found = []
        for image_id in ids:
            try:
                item = self.call("GET", f"{self.path}/{path_segment(image_id)}", client.GET_IMAGE)
            except Error as error:
                if client.is_not_found(error):
                    continue
                raise
            found.append(_single_image_row(item))
        return found

    def insert(self, rows: pa.Table) -> WriteResult:
        keys: list[object] = []
        for position, row in enumerate(rows.to_pylist()):
            content: bytes = row["File"]
            fields = {"foldername": row.get("FolderName") or "Default Folder"}
            if row.get("Name"):
                fields["name"] = row["Name"]
            upload = {"file": (row.get("Name") or "image", content, _content_type(content))}
            try:
                body = self.call("POST", self.path, client.UPLOAD_IMAGE, data=fields, files=upload)
            except Error as error:
                raise self.failed("INSERT", position, rows.num_rows, keys, error) from None
            keys.append(body["id"])
        return WriteResult(len(keys), tuple(keys))

    def update(self, keys: Sequence[object], values: pa.Table) -> WriteResult:
        rows = values.to_pylist()

        def send(position: int, key: object) -> bool:
            row = rows[position]
            parts: dict[str, Any] = {}
            if row.get("File") is not None:
                parts["file"] = ("image", row["File"], _content_type(row["File"]))
            if row.get("FolderName") is not None:
                parts["foldername"] = (None, row["FolderName"])
            elif "file" in parts:
                parts["ignorefolder"] = (None, "Y")
            if parts:
                self.call("PUT", f"{self.path}/{path_segment(str(key))}", client.REPLACE_IMAGE, files=parts)
            return bool(parts)

        return self.each_key("UPDATE", keys, send)

    def delete(self, keys: Sequence[object]) -> WriteResult:
        def send(position: int, key: object) -> bool:
            self.call("DELETE", f"{self.path}/{path_segment(str(key))}", client.DELETE_IMAGE)
            return True

        return self.each_key("DELETE", keys, send)


def images_info() -> TableInfo:
    return TableInfo(
        name="Images",
        columns=IMAGE_COLUMNS,
        description="Images in the account's image folders.",
        insertable=True,
        updatable=True,
        deletable=True,
        max_concurrency=1,
    )


def media_info() -> TableInfo:
    return TableInfo(name="Media", columns=MEDIA_COLUMNS, description="Files and links in the media folders.")
