"""SOQL errors: the platform's error codes and its ``ERROR at Row:r:Column:c`` message framing.

The REST API reports a query problem as ``[{"message": ..., "errorCode": ...}]``; for anything tied to a place in the
query text the message quotes the offending line, puts a caret under the spot and names row and column, e.g.::

    \\nSELECT Nme FROM Account\\n       ^\\nERROR at Row:1:Column:8\\nNo such column 'Nme' on entity 'Account'. ...

The platform sometimes shows only a window of a long line (observed in logs, width not pinned down); the emulator
always quotes the whole offending line, as the lead asked.
"""

from __future__ import annotations

WSDL_HINT = "Please reference your WSDL or the describe call for the appropriate names."


class SoqlError(Exception):
    """A query the platform would reject: `error_code` and `message` are what goes into the JSON error body."""

    def __init__(self, error_code: str, message: str, fields: tuple[str, ...] = ()) -> None:
        super().__init__(f"{error_code}: {message}")
        self.error_code = error_code
        self.message = message
        self.fields = fields


def framed(text: str, pos: int, explanation: str) -> str:
    """The platform's message for a problem at character offset `pos` of the query `text`."""
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    if line_end < 0:
        line_end = len(text)
    line = text[line_start:line_end].rstrip("\r")
    row = text.count("\n", 0, pos) + 1
    column = pos - line_start + 1
    return f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{explanation}"


def error_at(code: str, text: str, pos: int, explanation: str) -> SoqlError:
    """A framed error with any error code."""
    return SoqlError(code, framed(text, pos, explanation))


def malformed(text: str, pos: int, explanation: str) -> SoqlError:
    """A framed MALFORMED_QUERY error."""
    return error_at("MALFORMED_QUERY", text, pos, explanation)


def unexpected_token(text: str, pos: int, token_text: str) -> SoqlError:
    """The parser's generic complaint; `token_text` is the token as written, ``<EOF>`` at the end of the text."""
    return malformed(text, pos, f"unexpected token: '{token_text}'")


def bad_character(text: str, pos: int) -> SoqlError:
    """A character no token can start with (a double quote, ``;``, ``*`` …): the platform's lexer wording.

    Seen on the platform: ``ERROR at Row:1:Column:58\\nline 1:58 no viable alternative at character '"'`` (the
    same number twice), so the explanation repeats the frame's row and column.
    """
    row = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return malformed(text, pos, f"line {row}:{column} no viable alternative at character '{text[pos]}'")


def no_such_column(text: str, pos: int, name: str, entity: str) -> SoqlError:
    """Unknown field, INVALID_FIELD with the platform's wording."""
    return error_at(
        "INVALID_FIELD",
        text,
        pos,
        f"No such column '{name}' on entity '{entity}'. If you are attempting to use a custom field, be sure to "
        f"append the '__c' after the custom field name. {WSDL_HINT}",
    )


def bad_relationship(text: str, pos: int, name: str) -> SoqlError:
    """Unknown relationship in a field path, INVALID_FIELD with the platform's wording."""
    return error_at(
        "INVALID_FIELD",
        text,
        pos,
        f"Didn't understand relationship '{name}' in field path. If you are attempting to use a custom "
        f"relationship, be sure to append the '__r' after the custom relationship name. {WSDL_HINT}",
    )


def unsupported_object(text: str, pos: int, name: str) -> SoqlError:
    """Unknown object, INVALID_TYPE with the platform's wording."""
    return error_at(
        "INVALID_TYPE",
        text,
        pos,
        f"sObject type '{name}' is not supported. If you are attempting to use a custom object, be sure to "
        f"append the '__c' after the entity name. {WSDL_HINT}",
    )
