"""``dualpath lint --fix``: rewrites land on the statement's own text, every other byte stays."""

from __future__ import annotations

from pathlib import Path

from dualpath.risk.fixes import all_fixes
from dualpath.risk.fixes.files import fix_paths
from dualpath.risk.registry import all_rules


def _fix(*files: Path, dialect: str = "postgresql", version: tuple[int, ...] | None = (16,)) -> dict[str, str]:
    report = fix_paths(list(files), dialect=dialect, version=version)
    return {f.path.name: f.after for f in report.files}


def test_every_fix_answers_a_known_rule_and_one_fix_per_rule() -> None:
    known = {r.id for r in all_rules()}
    rules = [rule for fix in all_fixes() for rule in fix.rules]
    assert set(rules) <= known and len(rules) == len(set(rules))
    assert {"DP001", "DP004", "DP005", "DP006", "DP015", "DP016", "DP043"} <= set(rules)


def test_each_fix_module_is_named_like_the_rule_it_answers() -> None:
    rule_modules = {type(r).__module__.rsplit(".", 1)[1] for r in all_rules()}
    for fix in all_fixes():
        module = type(fix).__module__.rsplit(".", 1)[1]
        assert module in rule_modules and module.startswith(fix.rules[0].lower()), module


def test_rest_of_the_file_is_byte_identical(tmp_path: Path) -> None:
    file = tmp_path / "V1__index.sql"
    head = "-- header comment\n\n/* block\n   comment */\n"
    setting = "SET lock_timeout = '2s';  -- trailing\n"
    file.write_text(f"{head}{setting}  CREATE INDEX orders_c_idx ON orders (c) ; -- keep me\n\n\n")
    after = _fix(file)["V1__index.sql"]
    # the directive goes above the change's first statement
    assert after == (f"{head}-- dualpath:no-transaction\n{setting}"
                     "  CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_c_idx ON orders (c) ; -- keep me\n\n\n")


def test_crlf_and_bom_survive(tmp_path: Path) -> None:
    file = tmp_path / "V1__check.sql"
    file.write_bytes(b"\xef\xbb\xbf-- x\r\nALTER TABLE orders ADD CONSTRAINT pos CHECK (total > 0);\r\n")
    report = fix_paths([file], dialect="postgresql")
    assert report.files[0].after.encode() == (
        b"\xef\xbb\xbf-- x\r\n-- dualpath:no-transaction\r\n"
        b"ALTER TABLE orders ADD CONSTRAINT pos CHECK (total > 0) NOT VALID;\r\n"
        b"ALTER TABLE orders VALIDATE CONSTRAINT pos;\r\n")


def test_unnamed_foreign_key_gets_the_name_postgresql_would_give(tmp_path: Path) -> None:
    file = tmp_path / "V1__fk.sql"
    file.write_text("ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers (id);\n")
    assert _fix(file)["V1__fk.sql"].splitlines()[1:] == [
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) "
        "REFERENCES customers (id) NOT VALID;",
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;"]


def test_a_statement_sharing_its_transaction_is_left_with_a_reason(tmp_path: Path) -> None:
    file = tmp_path / "V1__two.sql"
    file.write_text("ALTER TABLE orders ADD COLUMN note text;\nCREATE INDEX orders_c_idx ON orders (c);\n")
    report = fix_paths([file], dialect="postgresql")
    assert report.files == []
    [(finding, reason)] = report.skipped
    assert finding.rule == "DP001" and "own" in reason and "line 1" in reason


def test_several_fixes_in_one_change_make_it_no_transaction_once(tmp_path: Path) -> None:
    file = tmp_path / "V1__two.sql"
    file.write_text("CREATE INDEX a_idx ON orders (a);\nALTER TABLE orders ADD CONSTRAINT k UNIQUE (b);\n")
    after = _fix(file)["V1__two.sql"]
    assert after.count("-- dualpath:no-transaction") == 1
    assert "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS k ON orders (b);\n" \
           "ALTER TABLE orders ADD CONSTRAINT k UNIQUE USING INDEX k;\n" in after


def test_set_not_null_needs_postgresql_12(tmp_path: Path) -> None:
    file = tmp_path / "V1__nn.sql"
    file.write_text("ALTER TABLE orders ALTER COLUMN c SET NOT NULL;\n")
    assert fix_paths([file], dialect="postgresql", version=(11,)).files == []
    after = _fix(file)["V1__nn.sql"]
    assert after.splitlines()[1:] == [
        "ALTER TABLE orders ADD CONSTRAINT orders_c_nn_check CHECK (c IS NOT NULL) NOT VALID;",
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_c_nn_check;",
        "ALTER TABLE orders ALTER COLUMN c SET NOT NULL;",
        "ALTER TABLE orders DROP CONSTRAINT orders_c_nn_check;"]


def test_batch_key_comes_from_the_primary_key_in_the_migration_set(tmp_path: Path) -> None:
    base = tmp_path / "V1__base.sql"
    base.write_text("CREATE TABLE orders (order_no bigint PRIMARY KEY, state text);\n")
    update = tmp_path / "V2__fill.sql"
    update.write_text("UPDATE orders SET state = 'x' WHERE state IS NULL;\n")
    assert _fix(base, update)["V2__fill.sql"].startswith("-- dualpath:batch table=orders key=order_no size=1000\n")
    guessed = _fix(update)["V2__fill.sql"].splitlines()
    assert guessed[0].startswith("-- TODO check the batch key") and guessed[1].endswith("key=id size=1000")


def test_batch_fix_on_mysql(tmp_path: Path) -> None:
    base = tmp_path / "V1__base.sql"
    base.write_text("CREATE TABLE orders (ref INT NOT NULL, state TEXT, PRIMARY KEY (ref));\n")
    update = tmp_path / "V2__fill.sql"
    update.write_text("DELETE FROM orders WHERE state = 'x';\n")
    after = _fix(base, update, dialect="mysql", version=None)["V2__fill.sql"]
    assert after.startswith("-- dualpath:batch table=orders key=ref size=1000\n")


def test_delete_without_where_is_not_batched_by_machine(tmp_path: Path) -> None:
    file = tmp_path / "V1__all.sql"
    file.write_text("DELETE FROM orders;\n")
    assert fix_paths([file], dialect="postgresql").files == []


def test_ignored_and_disabled_findings_are_not_fixed(tmp_path: Path) -> None:
    file = tmp_path / "V1__index.sql"
    file.write_text('-- dualpath:ignore DP001 reason="small table"\nCREATE INDEX a_idx ON t (a);\n')
    assert fix_paths([file], dialect="postgresql").files == []
    other = tmp_path / "V2__index.sql"
    other.write_text("CREATE INDEX b_idx ON t (b);\n")
    assert fix_paths([other], dialect="postgresql", disabled={"DP001"}).files == []


def test_fixing_twice_changes_nothing_more(tmp_path: Path) -> None:
    file = tmp_path / "V1__all.sql"
    file.write_text("ALTER TABLE orders ADD PRIMARY KEY (id);\n")
    file.write_text(_fix(file)["V1__all.sql"])
    assert fix_paths([file], dialect="postgresql").files == []


def test_migration_folder_with_rollbacks(tmp_path: Path) -> None:
    (tmp_path / "V1__idx.sql").write_text("CREATE INDEX a_idx ON t (a);\n")
    (tmp_path / "U1__idx.sql").write_text("DROP INDEX a_idx;\n")
    report = fix_paths([tmp_path], dialect="postgresql")
    assert [f.path.name for f in report.files] == ["V1__idx.sql"]
    assert "--- " in report.files[0].diff() and "+CREATE INDEX CONCURRENTLY" in report.files[0].diff()
