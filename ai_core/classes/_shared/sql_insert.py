"""INSERTs into user tables: which column holds the password (secrets and broken-auth checks read them)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_INSERT = re.compile(r"(?is)insert\s+into\s+[\"`]?(\w*(?:user|account|member|admin|login|credential|customer|staff)"
                     r"\w*)[\"`]?\s*\(([^)]*)\)\s*values\s*\(([^)]*)\)")
_PASSWORD_COLUMN = re.compile(r"(?i)^[\"`]?(pass(word|wd)?|pwd|password_plain|plain_password)[\"`]?$")


@dataclass(frozen=True, slots=True)
class PasswordInsert:
    """An INSERT into a user table with a password column: the table, the column's index, the VALUES items."""

    table: str
    index: int
    values: tuple[str, ...]

    @property
    def inline_literal(self) -> str | None:
        """The password written into the SQL itself (`VALUES ('admin', 'admin123')`), else None."""
        if self.index < len(self.values) and self.values[self.index][:1] in {"'", '"'}:
            return self.values[self.index].strip("'\"")
        return None


def password_insert(sql: str) -> PasswordInsert | None:
    """The password column of an INSERT into a user table, if the statement has one."""
    match = _INSERT.search(sql)
    if match is None:
        return None
    columns = [c.strip() for c in match.group(2).split(",")]
    index = next((i for i, c in enumerate(columns) if _PASSWORD_COLUMN.match(c)), None)
    if index is None:
        return None
    return PasswordInsert(match.group(1), index, tuple(v.strip() for v in match.group(3).split(",")))
