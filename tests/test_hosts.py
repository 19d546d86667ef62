from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from divio_settings import hosts
from divio_settings.hosts import HEALTH_MIDDLEWARE, HEALTH_SOURCE, REDIRECT_MIDDLEWARE
from tests.helpers import LIVE_ENV


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("www.Example.com", "www.example.com"),
        (" example.com ", "example.com"),
        ('"example.com"', "example.com"),
        ("example.com:8000", "example.com"),
        ("example.com.", "example.com"),
        ("*.example.com", ".example.com"),
        (".example.com", ".example.com"),
        ("https://example.com/path", "example.com"),
        ("127.0.0.1", "127.0.0.1"),
        ("127.0.0.1:8000", "127.0.0.1"),
        ("[::1]:8000", "[::1]"),
        ("::1", "[::1]"),
        ("[2001:db8::0001]", "[2001:db8::1]"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("*", "*"),
        (".*", "*"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ],
)
def test_normalize_host(item, expected):
    assert hosts.normalize_host("DOMAIN_ALIASES", item) == expected


@pytest.mark.parametrize(
    "item",
    [
        "^(example|other)\\.com$",
        "exa mple.com",
        "example.com:http",
        "ex_ample.com",
        "-bad.com",
        "[::zz]",
        "a" * 64 + ".com",
        "*example.com",
        "a..b",
        "..",
        "foo.*",
        "[::1",
    ],
)
def test_normalize_host_rejects_non_domains(item):
    with pytest.raises(
        ImproperlyConfigured, match=r"^DOMAIN_ALIASES: expected comma-separated domain names"
    ):
        hosts.normalize_host("DOMAIN_ALIASES", item)


def test_live_values_give_hosts_and_trusted_origins():
    out = hosts.settings_from_env(LIVE_ENV, {"ALLOWED_HOSTS": []})
    assert out.values["ALLOWED_HOSTS"] == [
        "example.us.aldryn.io",
        "www.example.com",
        "example.ch",
        "example.com",
        "www.example.ch",
    ]
    assert out.values["CSRF_TRUSTED_ORIGINS"] == [
        "https://example.us.aldryn.io",
        "https://www.example.com",
        "https://example.ch",
        "https://example.com",
        "https://www.example.ch",
    ]
    assert out.values["DIVIO_DOMAIN"] == "example.us.aldryn.io"
    assert out.values["DIVIO_DOMAIN_REDIRECTS"] == ["example.com", "www.example.ch"]


def test_cloud_never_adds_localhost_and_never_star_or_empty():
    allowed = hosts.settings_from_env({"DOMAIN": "x.aldryn.io"}, {}).values["ALLOWED_HOSTS"]
    assert allowed == ["x.aldryn.io"]
    assert "*" not in allowed
    assert "" not in allowed


def test_local_adds_localhost_names_and_no_origins():
    out = hosts.settings_from_env({}, {})
    assert out.values["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1", "[::1]"]
    assert "CSRF_TRUSTED_ORIGINS" not in out.values


def test_merges_with_settings_py_without_duplicates():
    current = {
        "ALLOWED_HOSTS": ["api.example.org", "www.example.com"],
        "CSRF_TRUSTED_ORIGINS": ["https://api.example.org"],
    }
    out = hosts.settings_from_env({"DOMAIN": "www.example.com"}, current)
    assert out.values["ALLOWED_HOSTS"] == ["api.example.org", "www.example.com"]
    assert out.values["CSRF_TRUSTED_ORIGINS"] == [
        "https://api.example.org",
        "https://www.example.com",
    ]
    assert current["ALLOWED_HOSTS"] == ["api.example.org", "www.example.com"]


def test_wildcard_alias_becomes_leading_dot_and_wildcard_origin():
    out = hosts.settings_from_env({"DOMAIN": "a.io", "DOMAIN_ALIASES": "*.example.com"}, {})
    assert out.values["ALLOWED_HOSTS"] == ["a.io", ".example.com"]
    assert out.values["CSRF_TRUSTED_ORIGINS"] == ["https://a.io", "https://*.example.com"]


@pytest.mark.parametrize("alias", ["*", ".*", "^.*$", ".+"])
def test_a_variable_never_allows_every_host(alias):
    """Divio's own listings show DOMAIN_ALIASES=.* (an aldryn-sites regex): the guide's code let
    Django match nothing with it; here it is left out and named (check W013)."""
    out = hosts.settings_from_env({"DOMAIN": "a.io", "DOMAIN_ALIASES": f"b.io, {alias}"}, {})
    assert out.values["ALLOWED_HOSTS"] == ["a.io", "b.io"]
    assert out.values["CSRF_TRUSTED_ORIGINS"] == ["https://a.io", "https://b.io"]
    assert out.values["DIVIO_IGNORED_HOSTS"] == [alias]


@pytest.mark.parametrize(
    ("pattern", "host"),
    [
        (r"^.*\.example\.com$", ".example.com"),
        (r".*\.example\.com", ".example.com"),
        (r"^(.+\.)?example\.com$", ".example.com"),
        (r"^www\.example\.com$", "www.example.com"),
    ],
)
def test_aldryn_sites_patterns_are_translated(pattern, host):
    out = hosts.settings_from_env({"DOMAIN": "a.io", "DOMAIN_ALIASES": pattern}, {})
    assert out.values["ALLOWED_HOSTS"] == ["a.io", host]


def test_other_regular_expressions_are_refused_with_the_spelling():
    with pytest.raises(ImproperlyConfigured, match=r"is a regular expression; write \*\.example"):
        hosts.settings_from_env({"DOMAIN_ALIASES": r"^(www|shop)\.example\.com$"}, {})


def test_redirects_put_the_middleware_first():
    out = hosts.settings_from_env(
        {"DOMAIN": "a.io", "DOMAIN_REDIRECTS": "b.io"},
        {"MIDDLEWARE": ["x.Security", REDIRECT_MIDDLEWARE]},
    )
    assert out.values["MIDDLEWARE"] == [HEALTH_MIDDLEWARE, REDIRECT_MIDDLEWARE, "x.Security"]
    assert out.sources["MIDDLEWARE"] == f"DOMAIN_REDIRECTS; {HEALTH_SOURCE}"
    assert "DIVIO_DOMAIN_REDIRECT_PERMANENT" not in out.values


def test_redirect_permanent_variable():
    out = hosts.settings_from_env({"DOMAIN": "a.io", "DOMAIN_REDIRECT_PERMANENT": "yes"}, {})
    assert out.values["DIVIO_DOMAIN_REDIRECT_PERMANENT"] is True


def test_no_redirects_no_redirect_middleware_but_the_health_probes_first():
    out = hosts.settings_from_env({"DOMAIN": "a.io"}, {"MIDDLEWARE": ["x"]})
    assert out.values["MIDDLEWARE"] == [HEALTH_MIDDLEWARE, "x"]
    assert out.sources["MIDDLEWARE"] == HEALTH_SOURCE
    assert "DIVIO_DOMAIN_REDIRECTS" not in out.values
    # settings.py's own redirect middleware stays where it is (it removes itself, unused).
    own = ["x", REDIRECT_MIDDLEWARE]
    assert hosts.settings_from_env({}, {"MIDDLEWARE": own}).values["MIDDLEWARE"] == [
        HEALTH_MIDDLEWARE,
        *own,
    ]
    # Already first: nothing to write.
    placed = [HEALTH_MIDDLEWARE, "x"]
    assert "MIDDLEWARE" not in hosts.settings_from_env({}, {"MIDDLEWARE": placed}).values


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"DOMAIN_REDIRECTS": "b.io"}, "DOMAIN_REDIRECTS: expected DOMAIN to be set"),
        ({"DOMAIN": "a.io", "DOMAIN_REDIRECTS": "*"}, "'*' would redirect every host"),
        (
            {"DOMAIN": "a.io", "DOMAIN_REDIRECTS": "a.io"},
            "'a.io' is served and would also be redirected",
        ),
        (
            {"DOMAIN": "www.a.io", "DOMAIN_REDIRECTS": "*.a.io"},
            "is served and would also be redirected",
        ),
        (
            {"DOMAIN": "a.io", "DOMAIN_ALIASES": "c.io", "DOMAIN_REDIRECTS": "c.io"},
            "'c.io' is served",
        ),
        # Django's matching: a wildcard covers its bare domain too.
        ({"DOMAIN": "a.io", "DOMAIN_REDIRECTS": "*.a.io"}, "'a.io' is served"),
        ({"DOMAIN": "a.io,b.io"}, "DOMAIN: expected a single domain name"),
        ({"DOMAIN": "*.a.io"}, "DOMAIN: expected a single domain name; wildcards"),
        ({"DOMAIN": "*"}, "DOMAIN: expected a single domain name; wildcards"),
    ],
)
def test_inconsistent_domains_are_errors(variables, message):
    with pytest.raises(ImproperlyConfigured, match=message.replace("*", r"\*")):
        hosts.settings_from_env(variables, {})


def test_a_wildcard_redirect_does_not_cover_a_longer_name():
    out = hosts.settings_from_env({"DOMAIN": "xa.io", "DOMAIN_REDIRECTS": "*.a.io"}, {})
    assert out.values["DIVIO_DOMAIN_REDIRECTS"] == [".a.io"]


@pytest.mark.parametrize("own", [["*"], ["localhost", "*"], ["*", "api.example.com"]])
def test_settings_py_any_host_gives_way_to_domain(own):
    """A move never widens access (#36): settings.py's own '*' (a local default) is left out
    once DOMAIN is set; its other hosts stay, and the source says why."""
    import divio_settings

    ns = {"__file__": "/app/x/settings.py", "ALLOWED_HOSTS": own}
    divio_settings.apply(ns, environ=dict(LIVE_ENV))
    assert "*" not in ns["ALLOWED_HOSTS"]
    assert [host for host in own if host != "*"] == ns["ALLOWED_HOSTS"][: len(own) - 1]
    assert "example.us.aldryn.io" in ns["ALLOWED_HOSTS"]
    row = next(r for r in ns[divio_settings.REPORT] if r["setting"] == "ALLOWED_HOSTS")
    assert row["source"].endswith("settings.py's '*' left out while DOMAIN is set")
    changed = divio_settings.changes(ns)["changed"]
    assert next(r for r in changed if r["setting"] == "ALLOWED_HOSTS")["before"] == own


def test_settings_py_any_host_stays_without_domain():
    """Locally (no DOMAIN) settings.py's '*' is its own choice: kept, and W004 names it."""
    changes = hosts.settings_from_env({}, {"ALLOWED_HOSTS": ["*"]})
    assert changes.values["ALLOWED_HOSTS"][0] == "*"
