import pytest

from dualpath.errors import UsageError
from dualpath.urls import endpoint, parse_url, redact


def test_redact_hides_passwords_in_urls_and_parameters() -> None:
    text = "failed: postgresql://bob:s3cr%40t@db:5432/x and mysql+pymysql://root:pw@h/db?password=abc&x=1"
    shown = redact(text)
    assert "s3cr" not in shown and ":pw@" not in shown and "abc" not in shown
    assert "postgresql://bob:***@db:5432/x" in shown


@pytest.mark.parametrize("given, driver", [
    ("postgresql://u@h/db", "postgresql+psycopg"),
    ("postgres://u@h/db", "postgresql+psycopg"),
    ("mysql://root@h/db", "mysql+pymysql"),
    ("mariadb://root@h/db", "mysql+pymysql"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
    ("sqlite:///tmp/x.db", "sqlite"),
])
def test_drivers_are_ours(given: str, driver: str) -> None:
    assert parse_url(given).drivername == driver


def test_endpoint_names_host_and_default_port() -> None:
    assert endpoint(parse_url("mysql://root:pw@db.internal/shop")) == "db.internal:3306"


def test_unsupported_backend_is_a_usage_error_without_password() -> None:
    with pytest.raises(UsageError) as info:
        parse_url("oracle://scott:tiger@h/db")
    assert "tiger" not in str(info.value)


def test_a_port_that_is_not_a_number_is_a_usage_error_with_the_password_hidden() -> None:
    import pytest

    from dualpath.errors import UsageError
    from dualpath.urls import parse_url

    with pytest.raises(UsageError) as caught:
        parse_url("postgresql://u:hunter2@[::1:5432/db")  # a tenant URL goes here without target.py
    assert "is not a database URL" in caught.value.message and "hunter2" not in caught.value.message
