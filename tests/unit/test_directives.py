import pytest

from dualpath.directives import parse_directive
from dualpath.errors import InputError


def test_batch_arguments_are_kept() -> None:
    d = parse_directive("-- dualpath:batch table=orders key=id size=5000 pause_ms=50", "m.sql", 7)
    assert d is not None
    assert (d.name, d.args, d.where) == ("batch", {"table": "orders", "key": "id", "size": "5000",
                                                   "pause_ms": "50"}, "m.sql:7")


def test_quoted_reason_and_positional_ticket() -> None:
    irr = parse_directive('--dualpath:irreversible reason="drops legacy data"', "m.sql", 1)
    ticket = parse_directive("-- dualpath:ticket PROJ-123", "m.sql", 2)
    assert irr is not None and irr.args == {"reason": "drops legacy data"}
    assert ticket is not None and ticket.args == {"id": "PROJ-123"}


def test_plain_comment_is_not_a_directive() -> None:
    assert parse_directive("-- add the column dualpath needs", "m.sql", 1) is None


def test_unknown_directive_names_the_nearest_known() -> None:
    with pytest.raises(InputError) as info:
        parse_directive("-- dualpath:no-transation", "db/V1__x.sql", 4)
    assert "db/V1__x.sql:4" in str(info.value)
    assert "no-transaction" in str(info.value)


@pytest.mark.parametrize("line, expected", [
    ("-- dualpath:irreversible", "reason=..."),
    ("-- dualpath:batch table=orders", "key=..."),
    ("-- dualpath:batch table=orders key=id size=lots", "'lots' is not a whole number"),
    ("-- dualpath:batch table=orders key=id size=99999999999999999999", "size=99999999999999999999 is out of range"),
    ("-- dualpath:batch table=orders key=id size=0", "size=0 is out of range: it must be from 1 to"),
    ("-- dualpath:batch table=orders key=id pause_ms=9999999999999", "pause_ms=9999999999999 is out of range"),
    ("-- dualpath:batch table=orders key=id target_ms=0", "target_ms=0 is out of range"),
    ('-- dualpath:irreversible reason="unclosed', "close the quote"),
    ("-- dualpath:no-transaction please", "unexpected 'please'"),
    ("-- dualpath:ignore DP012", "reason=..."),
])
def test_malformed_arguments_are_explained(line: str, expected: str) -> None:
    with pytest.raises(InputError) as info:
        parse_directive(line, "m.sql", 3)
    assert "m.sql:3" in str(info.value)
    assert expected in str(info.value)
