"""The Act-On emulator's account: images and media in folders, contact lists with their records, and messages.

Generated deterministically from the sandbox's record count, so every run sees the same data. The main contact
list, "Newsletter", holds exactly that many records (the conformance suite's table); its e-mail column cycles
through the hostile-value pool now and then, and several columns are partly empty. The folder "New Folder" holds
images, so the vendor's example (`filter_by(FolderName="New Folder")`) finds some.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field

from federation.emulation.pools import CITIES, COMPANY_CORES, FIRST_NAMES, HOSTILE_TEXT, LAST_NAMES, TITLES

#: 2024-09-01 00:00:00 UTC in epoch milliseconds: the account's data starts here.
EPOCH_MS = 1_725_148_800_000
#: The columns of a list as `GET /api/1/list/{listid}` heads them (the OpenAPI example's list).
LIST_HEADERS = (
    "First Name",
    "Last Name",
    "Job Title",
    "Company",
    "Business City",
    "E-mail Address",
    "Lead Source",
    "Timezone",
)
EMAIL_HEADER = "E-mail Address"
MESSAGE_TYPES = ("SENT", "DRAFT", "TEMPLATE", "TRIGGERED", "FAILED", "SCHEDULED")
#: The smallest valid PNG (a 1x1 transparent pixel): generated images hold it.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
IMAGE_FOLDERS = ("Default Folder", "New Folder", "Product Shots", "Événements 2024")
MEDIA_FOLDERS = ("Default Folder", "Datasheets")
SOURCES = ("Organic Search", "Webinar", "Trade Show", "Referral", "")
ZONES = ("America/Los_Angeles", "America/New_York", "Europe/Berlin", "Asia/Tokyo")


@dataclass
class Asset:
    """An image or a media item (a file, or a link when `target_url` is set)."""

    id: str
    folder: str
    name: str
    created_ms: int
    modified_ms: int
    content: bytes = b""
    width: int = 0
    height: int = 0
    target_url: str | None = None
    version: int = 0


@dataclass
class Record:
    """One contact of a list: its values in the list's header order, and when it was created and changed."""

    values: list[str]
    created_ms: int
    modified_ms: int


@dataclass
class ContactList:
    id: str
    name: str
    folder: str
    description: str
    headers: list[str]
    created_ms: int
    modified_ms: int
    #: Records by their number (the part after the colon of "l-0001:12"), in insertion order.
    records: dict[int, Record] = field(default_factory=dict)
    next_number: int = 0

    def record_id(self, number: int) -> str:
        return f"{self.id}:{number}"

    @property
    def email_column(self) -> int:
        """The e-mail column's index in a download's `headers` (which start with `_contact_id_`)."""
        return self.headers.index(EMAIL_HEADER) + 1 if EMAIL_HEADER in self.headers else -1

    def add(self, values: list[str], now_ms: int) -> int:
        number = self.next_number
        self.next_number += 1
        self.records[number] = Record(values, now_ms, now_ms)
        self.modified_ms = now_ms
        return number


@dataclass
class Message:
    id: str
    name: str
    type: str
    sent_ms: int
    sender_name: str
    sender_id: str
    sender_email: str
    text_only: bool


def _contact(n: int) -> list[str]:
    first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n * 7) % len(LAST_NAMES)]
    # Every 9th contact's e-mail is hostile text: quotes, wildcards, case variants, spaces at either end.
    hostile = HOSTILE_TEXT[n // 9 % len(HOSTILE_TEXT)]
    email = hostile if n % 9 == 4 else f"{first.lower()}.{n}@example.com"
    return [
        first,
        "" if n % 17 == 0 else last,
        TITLES[n % len(TITLES)] or "",
        "" if n % 7 == 0 else f"{COMPANY_CORES[n % len(COMPANY_CORES)]} {n % 97}",
        "" if n % 6 == 0 else CITIES[n % len(CITIES)][0],
        email,
        SOURCES[n % len(SOURCES)],
        ZONES[n % len(ZONES)],
    ]


def _image(n: int) -> Asset:
    created = EPOCH_MS + n * 3_600_000
    return Asset(
        id=f"f-{uuid.UUID(int=n + 1)}",
        folder=IMAGE_FOLDERS[n % len(IMAGE_FOLDERS)],
        name=f"Image {n:03d}.png",
        created_ms=created,
        modified_ms=created + n * 7,
        content=PNG_1X1,
        width=1,
        height=1,
    )


def _media(n: int) -> Asset:
    created = EPOCH_MS + n * 5_400_000
    link = n % 3 == 2
    return Asset(
        id=f"{'u' if link else 'f'}-{uuid.UUID(int=10_000 + n)}",
        folder=MEDIA_FOLDERS[n % len(MEDIA_FOLDERS)],
        name=f"Help Center {n}" if link else f"Datasheet {n}.pdf",
        created_ms=created,
        modified_ms=created + 5,
        content=b"" if link else b"%PDF-1.4\n" + bytes(n % 50),
        target_url=f"https://help.example.com/articles/{n}" if link else None,
    )


def _message(n: int) -> Message:
    first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[n % len(LAST_NAMES)]
    kind = MESSAGE_TYPES[n % len(MESSAGE_TYPES)]
    return Message(
        id=f"{kind[0].lower()}-{n:04d}-2409",
        name=f"Monthly Update {n}",
        type=kind,
        sent_ms=EPOCH_MS + n * 86_400_000 // 3,
        sender_name=f"{first} {last}",
        sender_id=str(434_330 + n % 4),
        sender_email=f"{first.lower()}.{last.lower()}@example.com",
        text_only=n % 4 == 0,
    )


class Account:
    """Everything the emulated account holds; `lock` guards every change."""

    def __init__(self, records: int) -> None:
        self.lock = threading.RLock()
        self.images = {a.id: a for a in (_image(n) for n in range(max(records // 20, 12)))}
        self.media = {a.id: a for a in (_media(n) for n in range(max(records // 100, 6)))}
        self.messages = [_message(n) for n in range(max(records // 10, 12))]
        self.lists: dict[str, ContactList] = {}
        self._next_list = 1
        self._next_asset = 1_000_000
        for name, size in (("Newsletter", records), ("Webinar Attendees", max(records // 10, 5)), ("Partners", 3)):
            contact_list = self.new_list(name, "Default Folder", list(LIST_HEADERS), EPOCH_MS)
            for n in range(size):
                stamp = EPOCH_MS + n * 60_000
                number = contact_list.add(_contact(n), stamp)
                contact_list.records[number].modified_ms = stamp + (n % 13) * 3_600_000
            contact_list.modified_ms = EPOCH_MS + size * 60_000

    def new_list(self, name: str, folder: str, headers: list[str], now_ms: int) -> ContactList:
        with self.lock:
            list_id = f"l-{self._next_list:04d}"
            self._next_list += 1
            created = ContactList(list_id, name, folder, f"{name} contacts", headers, now_ms, now_ms)
            self.lists[list_id] = created
            return created

    def new_asset_id(self) -> str:
        with self.lock:
            self._next_asset += 1
            return f"f-{uuid.UUID(int=self._next_asset)}"

    def list_named(self, name: str) -> ContactList | None:
        return next((c for c in self.lists.values() if c.name == name), None)
