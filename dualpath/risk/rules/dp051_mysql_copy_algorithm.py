from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule, describe
from dualpath.risk.schema import Column, Schema


def maria_notes(charset: str, indexed: bool = False) -> Schema:
    """A MariaDB schema whose notes.body column is in ``charset``, as --url reads it."""
    body = Column("shop.notes", "body", "varchar(200)", nullable=True, indexed=indexed, charset=charset)
    return Schema(flavor="mariadb", version=(10, 11), columns={"shop.notes": {"body": body}},
                  charsets={"shop.notes": charset})



class MysqlCopyAlgorithm(OpRule):
    id = "DP051"
    title = "ALTER TABLE copies the table (ALGORITHM=COPY)"
    severity = "warning"
    engines = ("mysql",)
    judges_cost = True
    why = ("With ALGORITHM=COPY MySQL/MariaDB build a full copy of the table and block writes until it "
           "is done: a column type change, CONVERT TO CHARACTER SET, a foreign key with "
           "foreign_key_checks on, a CHECK constraint, dropping the primary key, AUTO_INCREMENT, stored "
           "generated columns or a DEFAULT expression, a new storage engine. MODIFY/CHANGE restate the "
           "whole column: compared with its current definition (--url), a new default or comment, a "
           "VARCHAR that keeps its length bytes or ENUM/SET members appended are instant, a NULL-ness "
           "change is rebuilt in place; without a server the finding says it depends.")
    alternative = ("Run it with an online schema change tool (gh-ost, pt-online-schema-change), or "
                   "rework it: add a new column of the new type and backfill in batches.")
    fix = "use gh-ost / pt-online-schema-change, or add a new column and backfill in batches"
    bad = "ALTER TABLE orders MODIFY COLUMN total DECIMAL(14, 2) NOT NULL;"
    good = "ALTER TABLE orders ADD COLUMN total_v2 DECIMAL(14, 2), ALGORITHM=INSTANT;"

    cases = (
        Case("ALTER TABLE orders CONVERT TO CHARACTER SET utf8mb4;", True, note="CONVERT TO CHARACTER SET copies"),
        Case("ALTER TABLE orders MODIFY COLUMN qty BIGINT NOT NULL;", True, dialect="mariadb",
             note="mariadb: INT to BIGINT changes the stored format: copy"),
        Case("ALTER TABLE notes CONVERT TO CHARACTER SET utf8mb4;", False, dialect="mariadb",
             schema=maria_notes("utf8mb3"), note="mariadb: utf8mb3 to utf8mb4 is instant (10.4+)"),
        Case("ALTER TABLE notes CONVERT TO CHARACTER SET utf8mb4;", False, dialect="mariadb",
             schema=maria_notes("utf8mb3", indexed=True),
             note="mariadb: an indexed utf8mb3 column: its index is rebuilt, the table is not copied"),
        Case("ALTER TABLE notes CONVERT TO CHARACTER SET utf8mb4;", True, dialect="mariadb",
             schema=maria_notes("latin1"), note="mariadb: latin1 to utf8mb4 copies the table"),
        Case("ALTER TABLE notes CONVERT TO CHARACTER SET utf8mb4;", True, dialect="mariadb",
             note="mariadb without --url: depends on the current character set, reported as a copy"),
        Case("ALTER TABLE orders ADD INDEX orders_state_idx (state);", False,
             note="a secondary index is built in place"),
        Case("ALTER TABLE orders RENAME COLUMN note TO remark;", False, note="a rename changes metadata only"),
        Case("CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT);\nALTER TABLE notes MODIFY body MEDIUMTEXT;", False,
             note="a table created in the same change is empty"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.algorithm == "COPY"

    def message(self, ctx: Context, effect: Effect) -> str:
        if effect.operation == "convert_charset" and effect.op is not None and effect.op.get("depends"):
            return (f"convert charset on {effect.table} copies the table (ALGORITHM=COPY, writes wait) unless its "
                    "text columns are utf8mb3 now: MariaDB widens those to utf8mb4 without a copy")
        if effect.op is not None and effect.op.get("depends"):
            return (f"{effect.operation.replace('_', ' ')} on {effect.table} copies the table (ALGORITHM=COPY, "
                    "writes wait) unless only its default, comment, name, position, NULL-ness or a compatible "
                    "length changes")
        return f"{effect.operation.replace('_', ' ')} {describe(effect)}"


RULE = MysqlCopyAlgorithm()
