from urllib.parse import quote, unquote

import pytest

from dualpath.errors import UsageError
from dualpath.urls import DatabaseURL, endpoint, parse_url, redact, reveal, safe_url


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


# --- issue 13 (4, 5, 6): every printed form of a URL hides its secrets ------------------------------

SECRET = "S3cr@t:/#?%&=+ é"  # the characters generated passwords carry


@pytest.mark.parametrize("given", [
    f"postgresql://u@h/db?password={quote(SECRET, safe='')}",  # libpq's own form
    f"postgresql+psycopg://u@h/db?sslmode=require&sslpassword={quote(SECRET, safe='')}",
    f"mysql://root@h/db?passwd={quote(SECRET, safe='')}",
    f"mysql+pymysql://root@h/db?ssl_key_password={quote(SECRET, safe='')}",
    f"postgresql://u@h/db?options={quote('-c app.token=' + SECRET, safe='')}",
    f"postgresql://u:{quote(SECRET, safe='')}@[::1]:5432/db",
    f"mariadb://u:{quote(SECRET, safe='')}@h:3306/db?charset=utf8mb4",
])
def test_no_printed_form_of_a_parsed_url_shows_its_secret(given: str) -> None:
    url = parse_url(given)
    for shown in (str(url), repr(url), f"{url}", f"{url!r}", url.render_as_string(), safe_url(url),
                  str(url.set(database="other")), str([url]), redact(given)):
        assert "S3cr" not in shown and "%40t" not in shown, shown
    assert "S3cr" in unquote(reveal(url)) or url.password == SECRET  # the secret is still there for the driver


@pytest.mark.parametrize("given", [
    "mysql://user:p@ss:w%rd/#?x@host/db",  # the example: masked only up to the first '@' before
    "postgresql://u:p@ss@host/db",  # parses, but the rest of the password became the host
    "postgresql://u:p@ss@[::1:5432/db",
    "mysql+pymysql://u:p@ss:1@2/x@host:notaport/db",
])
def test_a_url_with_a_raw_at_sign_is_refused_without_any_of_its_userinfo(given: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_url(given)
    text = str(caught.value)
    assert "is not a database URL" in text and "next:" in text
    assert "p@ss" not in text and "ss:" not in text and "ss@" not in text and "w%rd" not in text, text
    assert "percent-encode" in text


def test_redact_hides_a_raw_password_with_url_syntax_in_it_whole() -> None:
    shown = redact("failed: 'mysql://user:p@ss:w%rd/#?x@host/db' and postgresql://u:a/b#c?d@h:5432/x done")
    assert shown == "failed: 'mysql://user:***@host/db' and postgresql://u:***@h:5432/x done"


@pytest.mark.parametrize("text", [
    "host=db user=u password=hunter2 dbname=x", "sslpassword='hun ter2' host=db", "token = hunter2",
    "options=-c%20app.token%3Dhunter2", "x?passwd=hunter2&y=1", "API_KEY=hunter2",
])
def test_redact_hides_key_value_secrets(text: str) -> None:
    assert "hunter2" not in redact(text) and "hun ter2" not in redact(text)


def test_a_database_url_keeps_its_type_and_its_secret_for_the_driver() -> None:
    url = parse_url(f"postgresql://u:{quote(SECRET, safe='')}@h/db")
    assert isinstance(url.set(database="x"), DatabaseURL) and url.password == SECRET
    assert parse_url(reveal(url)).password == SECRET


def test_an_error_message_never_carries_a_password() -> None:
    from dualpath.errors import ConnectionFailed

    exc = ConnectionFailed("replica postgresql://u:hunter2@h/db?password=hunter3 is down",
                           where="mysql://r:hunter4@h/db", hint="check sslpassword=hunter5")
    exc.where = "postgresql://u:hunter6@h/db"  # set later, as target.py does
    assert not any(f"hunter{i}" in str(exc) + exc.message + (exc.hint or "") for i in range(2, 7)), str(exc)


def test_a_token_inside_options_is_hidden_whole_even_with_url_syntax_in_it() -> None:
    token = "t0k&en=+#?@:zz"
    url = parse_url(f"postgresql://u@h/db?options={quote('-c app.token=' + token + ' -c x=1', safe='')}")
    assert str(url) == "postgresql+psycopg://u@h/db?options=-c+app.token=***+-c+x=1"


def test_the_password_is_found_where_the_url_carries_it() -> None:
    from dualpath.urls import password_of

    assert password_of(parse_url("postgresql://u:a%40b@h/db")) == "a@b"
    assert password_of(parse_url("postgresql://u@h/db?password=a%26b")) == "a&b"
    assert password_of(parse_url("mysql://u@h/db?passwd=x")) == "x"
    assert password_of(parse_url("mysql://u@h/db")) is None


def test_an_ipv6_endpoint_is_written_with_brackets() -> None:
    assert endpoint(parse_url("postgresql://u:pw@[::1]:5433/db")) == "[::1]:5433"


def _redact_by_patterns_alone(text: str) -> str:
    from dualpath import redaction

    text = redaction._URL_USERINFO.sub(lambda m: m["scheme"] + redaction._masked_userinfo(m["userinfo"]) + "@", text)
    return redaction._ASSIGNMENT.sub(lambda m: m["head"] + redaction.MASK, text)


def test_redaction_skips_only_texts_its_patterns_cannot_match() -> None:
    """redact() runs a pattern only when the text holds what the pattern needs ('://', '=' or '%3'): the
    same result as running both on every text, on texts built from the characters that matter."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    pieces = st.sampled_from(["postgresql://", "u:p@", "@", "password", "=", "%3D", "%3d", "token", " ", "'", "x",
                              "&", "api_key", ":", "/", "?sslpassword=", "pwd = ", '"'])

    @settings(max_examples=400, deadline=None)
    @given(st.lists(pieces, max_size=12).map("".join))
    def same(text: str) -> None:
        assert redact(text) == _redact_by_patterns_alone(text)

    same()
    assert redact("postgresql://me:s3cret@db/x password=hunter2") == "postgresql://me:***@db/x password=***"
