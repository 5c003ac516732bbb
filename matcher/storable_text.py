"""Text every engine can store: PostgreSQL refuses the NUL character (SQLite keeps it), so it is
removed from every string attribute before a row is inserted or updated, whatever path the text
came by (form, import, API, CLI). Nobody types a NUL; a fuzzer or a broken file does."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Mapper

NUL = "\x00"


def _strip_nul(_mapper: Mapper[Any], _connection: Any, target: Any) -> None:
    for attribute in _mapper.column_attrs:
        value = getattr(target, attribute.key, None)
        if isinstance(value, str) and NUL in value:
            setattr(target, attribute.key, value.replace(NUL, ""))


event.listen(Mapper, "before_insert", _strip_nul)
event.listen(Mapper, "before_update", _strip_nul)
