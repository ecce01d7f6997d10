from dualpath.changes import Change, Statement, checksum_of, version_key


def _stmt(text: str) -> Statement:
    return Statement(text=text, file="f.sql", line=1)


def test_versions_order_by_numbers_not_spelling() -> None:
    versions = ["2017-09-23-182408", "20170309122510", "20180101000000"]
    assert sorted(versions, key=version_key) == ["20170309122510", "2017-09-23-182408", "20180101000000"]
    assert sorted(["1.10", "1.9", "2", "1_2"], key=version_key) == ["1_2", "1.9", "1.10", "2"]
    assert version_key("000012") == (12,)


def test_checksum_ignores_line_endings_and_trailing_blanks() -> None:
    lf = checksum_of((_stmt("CREATE TABLE t (\n  id int\n)"),), (_stmt("DROP TABLE t"),))
    crlf = checksum_of((_stmt("CREATE TABLE t (  \r\n  id int\r\n)\r\n"),), (_stmt("DROP TABLE t"),))
    assert lf == crlf


def test_checksum_changes_with_forward_or_rollback() -> None:
    base = checksum_of((_stmt("CREATE TABLE t (id int)"),), (_stmt("DROP TABLE t"),))
    assert base != checksum_of((_stmt("CREATE TABLE t (id bigint)"),), (_stmt("DROP TABLE t"),))
    assert base != checksum_of((_stmt("CREATE TABLE t (id int)"),), (_stmt("DROP TABLE IF EXISTS t"),))
    # moving a statement from forward to rollback is a different change
    assert checksum_of((_stmt("a"), _stmt("b")), ()) != checksum_of((_stmt("a"),), (_stmt("b"),))


def test_change_level_directives_are_found_on_statements() -> None:
    from dualpath.changes import Directive

    ticket = Directive("ticket", {"id": "SHOP-1"}, "f.sql", 1)
    change = Change("1", "x", (Statement("SELECT 1", "f.sql", 2, directives=(ticket,)),), (), "f.sql")
    assert change.ticket == "SHOP-1"
    assert change.irreversible is None


def test_ticket_from_configured_pattern_when_no_directive() -> None:
    change = Change("3", "SHOP 117 add currency", (_stmt("SELECT 1"),), (), "db/V3__SHOP-117_add_currency.sql")
    assert change.ticket_by(r"[A-Z]+-\d+") == "SHOP-117"
    assert change.ticket_by(None) is None
