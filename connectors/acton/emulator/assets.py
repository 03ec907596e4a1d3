"""Images and media: `/api/1/image` and `/api/1/media`, as Act-On's published OpenAPI (act-on-api-1.json) shows them.

The lists are arrays of folders, `[{"name": folder, "entries": [...]}]`, with the vendor's mixed encodings kept
exactly: an image entry has `size` as a number but `width`, `height`, `creation_time` and `last_modified` as
strings; a media entry has `creation_time` as a number and `size` and `last_modified` as strings; a single image
or media item has numeric epoch-ms times and its own key names (`image_url`, `display_name`, `folder_name`).
Uploads are multipart (`file`, `name`, `foldername`); a PUT replaces the file (`ignorefolder=Y` keeps the folder)
or, without a file, moves the image to `foldername` (the move keeping its id is this emulator's reading of the
UNCONFIRMED PUT semantics).
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from federation.emulation.server import Exchange, Json, Reply, json_reply

from .data import Account, Asset
from .wire import ApiError, multipart, success, text

CDN = "https://a10000.actonservice.com/cdnr/forpci4/acton/attachment/10000"
INVALID_ID = (404, 10054, "The id is invalid")


def _url(asset: Asset, file: str) -> str:
    return f"{CDN}/{asset.id}/{asset.version + 1}/-/-/-/-/{file}"


def image_entry(asset: Asset) -> dict[str, Json]:
    url = _url(asset, "image.png")
    return {
        "creation_time": str(asset.created_ms),
        "size": len(asset.content),
        "thumb": url,
        "name": asset.name,
        "width": str(asset.width),
        "id": asset.id,
        "last_modified": str(asset.modified_ms),
        "url": url,
        "height": str(asset.height),
    }


def image_item(asset: Asset) -> dict[str, Json]:
    url = _url(asset, "image.png")
    return {
        "id": asset.id,
        "image_url": url,
        "thumb_url": url,
        "size": len(asset.content),
        "last_modified": asset.modified_ms,
        "creation_time": asset.created_ms,
        "display_name": asset.name,
        "folder_name": asset.folder,
        "version": asset.version,
    }


def media_entry(asset: Asset) -> dict[str, Json]:
    entry: dict[str, Json] = {"creation_time": asset.created_ms}
    if asset.target_url is None:
        entry["size"] = str(len(asset.content))
    else:
        entry["target_url"] = asset.target_url
    entry.update(
        name=asset.name,
        id=asset.id,
        last_modified=str(asset.modified_ms),
        url=_url(asset, "file.pdf" if asset.target_url is None else "file.bin"),
    )
    return entry


def media_item(asset: Asset) -> dict[str, Json]:
    return {
        "id": asset.id,
        "name": asset.name,
        "url": _url(asset, ""),
        "target_url": asset.target_url,
        "creation_time": asset.created_ms,
        "last_modified": asset.modified_ms,
    }


def folders(assets: dict[str, Asset], entry: Callable[[Asset], dict[str, Json]]) -> Reply:
    grouped: dict[str, list[Json]] = {}
    for asset in assets.values():
        grouped.setdefault(asset.folder, []).append(entry(asset))
    return json_reply(200, [{"entries": entries, "name": name} for name, entries in grouped.items()])


def dimensions(content: bytes) -> tuple[int, int]:
    """(width, height) of a PNG or GIF; other accepted types report 0 (the emulator does not decode them)."""
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return int(width), int(height)
    if content[:6] in (b"GIF87a", b"GIF89a") and len(content) >= 10:
        width, height = struct.unpack("<HH", content[6:10])
        return int(width), int(height)
    return 0, 0


def _image_type_ok(content: bytes) -> bool:
    return content.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM"))


class Assets:
    """The image and media endpoints over one account."""

    def __init__(self, account: Account, now_ms: Callable[[], int]) -> None:
        self.account = account
        self.now_ms = now_ms

    def images(self) -> Reply:
        with self.account.lock:
            return folders(self.account.images, image_entry)

    def media(self) -> Reply:
        with self.account.lock:
            return folders(self.account.media, media_entry)

    def image(self, image_id: str) -> Reply:
        with self.account.lock:
            return json_reply(200, image_item(self._image(image_id)))

    def media_item(self, media_id: str) -> Reply:
        with self.account.lock:
            found = self.account.media.get(media_id)
            if found is None:
                raise ApiError(*INVALID_ID)
            return json_reply(200, media_item(found))

    def upload(self, exchange: Exchange) -> Reply:
        parts = multipart(exchange)
        if "file" not in parts:
            raise ApiError(400, 10003, "Input file missing")
        content, filename = parts["file"]
        if not _image_type_ok(content):
            raise ApiError(400, 10085, "Invalid file type specified")
        width, height = dimensions(content)
        now = self.now_ms()
        asset = Asset(
            id=self.account.new_asset_id(),
            folder=text(parts, "foldername") or "Default Folder",
            name=text(parts, "name") or filename or "image",
            created_ms=now,
            modified_ms=now,
            content=content,
            width=width,
            height=height,
        )
        with self.account.lock:
            self.account.images[asset.id] = asset
        return success("The file has been uploaded", id=asset.id)

    def replace(self, image_id: str, exchange: Exchange) -> Reply:
        parts = multipart(exchange)
        with self.account.lock:
            asset = self._image(image_id)
            if "file" in parts:
                content = parts["file"][0]
                if not _image_type_ok(content):
                    raise ApiError(400, 10085, "Invalid file type specified")
                asset.content = content
                asset.width, asset.height = dimensions(content)
                asset.version += 1
            folder = text(parts, "foldername")
            if folder and text(parts, "ignorefolder") != "Y":
                asset.folder = folder
            asset.modified_ms = self.now_ms()
        return success("The file has been uploaded", id=asset.id)

    def delete(self, image_id: str) -> Reply:
        with self.account.lock:
            self._image(image_id)
            del self.account.images[image_id]
        return success("File deleted")

    def _image(self, image_id: str) -> Asset:
        found = self.account.images.get(image_id)
        if found is None:
            raise ApiError(*INVALID_ID)
        return found
