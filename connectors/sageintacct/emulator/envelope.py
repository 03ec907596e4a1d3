"""The gateway's response envelope: the control block, the authentication block, per-function results and the
error lists at each of the three levels (api-protocols.md §1.4), rendered as the vendor's XML."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from federation.emulation.server import Reply

#: The gateway answers `text/xml` (the vendor SDK's fixtures).
CONTENT_TYPE = 'text/xml; encoding="UTF-8"'


@dataclass(frozen=True)
class ApiError:
    """One `<error>`: the number, the two descriptions and the correction, as the gateway fills them."""

    errorno: str
    description2: str
    description: str = ""
    correction: str = ""

    def xml(self) -> str:
        return (
            f"<error><errorno>{escape(self.errorno)}</errorno><description>{escape(self.description)}</description>"
            f"<description2>{escape(self.description2)}</description2>"
            f"<correction>{escape(self.correction)}</correction></error>"
        )


def errors_xml(errors: Sequence[ApiError]) -> str:
    return "<errormessage>" + "".join(e.xml() for e in errors) + "</errormessage>"


class Failed(Exception):
    """A function (or the whole request) failed with these errors, most specific first."""

    def __init__(self, *errors: ApiError) -> None:
        super().__init__(errors[0].description2 if errors else "failed")
        self.errors = errors


@dataclass
class Result:
    """One function's `<result>`."""

    function: str
    controlid: str
    status: str = "success"
    data: str = ""
    errors: list[ApiError] = field(default_factory=list)

    def xml(self) -> str:
        body = self.data + (errors_xml(self.errors) if self.errors else "")
        return (
            f"<result><status>{self.status}</status><function>{escape(self.function)}</function>"
            f"<controlid>{escape(self.controlid)}</controlid>{body}</result>"
        )


def control_xml(status: str, senderid: str, controlid: str, uniqueid: str = "false") -> str:
    return (
        f"<control><status>{status}</status><senderid>{escape(senderid)}</senderid>"
        f"<controlid>{escape(controlid)}</controlid><uniqueid>{uniqueid}</uniqueid>"
        "<dtdversion>3.0</dtdversion></control>"
    )


def document(inner: str, status: int = 200) -> Reply:
    text = f'<?xml version="1.0" encoding="UTF-8"?><response>{inner}</response>'
    return Reply(status, text.encode(), CONTENT_TYPE)


def control_failure(errors: Sequence[ApiError], senderid: str = "", controlid: str = "", status: int = 200) -> Reply:
    """A failure of the whole request: no `<operation>` at all."""
    return document(control_xml("failure", senderid, controlid) + errors_xml(errors), status)
