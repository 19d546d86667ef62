"""DOMAIN, DOMAIN_ALIASES, DOMAIN_REDIRECTS -> ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS, redirects."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from . import conf, variables
from .env import Env, get, invalid, is_cloud, read_bool, read_list, shown
from .groups import Decisions
from .variables import Variable

REDIRECT_MIDDLEWARE: Final = "divio_settings.middleware.DomainRedirectMiddleware"
# Answers health_urlpatterns()'s views for any host (a probe on the container's address);
# removes itself on the first request when urls.py does not route them.
HEALTH_MIDDLEWARE: Final = "divio_settings.middleware.HealthMiddleware"
HEALTH_SOURCE: Final = "default (health probes)"


ANY_HOST: Final = "*"
ANY_HOST_DROPPED: Final = "settings.py's '*' left out while DOMAIN is set"
LOCAL_HOSTS: Final = ("localhost", "127.0.0.1", "[::1]")
LIST_SHAPE: Final = "comma-separated domain names such as www.example.com or *.example.com"
_LABEL_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def is_hostname(host: str) -> bool:
    """Dot-separated labels of 1-63 letters, digits and inner hyphens (no regex: start-up)."""
    return all(
        0 < len(label) < 64
        and label[0] != "-"
        and label[-1] != "-"
        and _LABEL_CHARS.issuperset(label)
        for label in host.split(".")
    )


# "Any host": `*`, and aldryn-sites' regular expressions for it (Divio's listings show `.*`).
_ANY: Final = frozenset({"*", ".*", ".+", "^.*$", "^.+$", "^.*", "^.+", ".*$", ".+$"})
# aldryn-sites' regular expressions for "this domain's subdomains" (matched with re.match), in
# Django's syntax `.example.com`, which also covers example.com itself.
_SUBDOMAIN_REGEX: Final = ("(.*\\.)?", "(.+\\.)?", ".*\\.", ".+\\.", "[^.]+\\.", "[a-z0-9-]+\\.")
_REGEX_CHARS: Final = frozenset("^$\\(){}+?|")  # not [ and ]: IPv6 addresses


def normalize_host(name: str, item: str) -> str:
    """One entry in Django's ALLOWED_HOSTS syntax: lower case, no port, ``.x`` for ``*.x``.

    ``*`` and the aldryn-sites regexes for any host (``.*``) mean "any host" (ANY_HOST, which
    the hosts group never lets into ALLOWED_HOSTS); the usual aldryn-sites regexes for a domain
    and its subdomains (``^.*\\.example\\.com$``) are translated, others refused.
    """
    host = item.strip().strip("'\"").strip()
    if host in _ANY:
        return ANY_HOST
    if _REGEX_CHARS.intersection(host) or host.startswith(".*"):
        host = _from_regex(name, host, item)
        if host == ANY_HOST:
            return ANY_HOST
    if "://" in host:
        host = host.split("://", 1)[1]
    host = host.split("/", 1)[0]
    if host.startswith("[") or host.count(":") > 1:
        return _ipv6(name, host, item)
    host, _, port = host.partition(":")
    if port and not (port.isascii() and port.isdigit()):
        raise invalid(name, LIST_SHAPE, f"{shown(item)} has a port that is not a number")
    wildcard = host.startswith(("*.", "."))
    host = host.removeprefix("*.") if host.startswith("*.") else host.removeprefix(".")
    host = host.rstrip(".").lower()
    ascii_host = host if host.isascii() else _punycode(name, host, item)
    if not ascii_host or len(ascii_host) > 253 or not is_hostname(ascii_host):
        raise invalid(name, LIST_SHAPE, f"{shown(item)} is not a domain name")
    if wildcard and "." not in ascii_host:
        raise invalid(name, LIST_SHAPE, f"{shown(item)} would allow every domain of a top level")
    return "." + ascii_host if wildcard else ascii_host


def _from_regex(name: str, host: str, item: str) -> str:
    body = host.removeprefix("^").removesuffix("$")
    if body in _ANY:
        return ANY_HOST
    prefix = next((p for p in _SUBDOMAIN_REGEX if body.startswith(p)), None)
    rest = body[len(prefix) :] if prefix else body
    plain = rest.replace("\\.", ".")
    if _REGEX_CHARS.intersection(plain) or "*" in plain or ".." in plain:
        raise invalid(
            name,
            LIST_SHAPE,
            f"{shown(item)} is a regular expression; write *.example.com for a domain and its "
            "subdomains, or list each domain",
        )
    return f"*.{plain}" if prefix else plain


def _punycode(name: str, host: str, item: str) -> str:
    """The name browsers send for an international domain: IDNA 2008 with UTS 46 mapping
    (faß.de is xn--fa-hia.de; Python's own codec, IDNA 2003, would make it fass.de)."""
    import idna

    try:
        return str(idna.encode(host, uts46=True).decode("ascii"))
    except idna.IDNAError:
        raise invalid(name, LIST_SHAPE, f"{shown(item)} is not a valid domain name") from None


def _ipv6(name: str, host: str, item: str) -> str:
    import ipaddress

    if host.startswith("["):
        address, bracket, port = host[1:].partition("]")
        if not bracket or (port and not (port[:1] == ":" and port[1:].isdigit())):
            raise invalid(name, LIST_SHAPE, f"{shown(item)} is not an IPv6 address")
    else:
        address = host
    try:
        return f"[{ipaddress.IPv6Address(address).compressed}]"
    except ValueError:
        raise invalid(name, LIST_SHAPE, f"{shown(item)} is not an IPv6 address") from None


def hosts_of(env: Env, variable: Variable) -> list[str]:
    return [normalize_host(variable.name, item) for item in read_list(env, variable)]


def origin(host: str) -> str:
    return f"https://*{host}" if host.startswith(".") else f"https://{host}"


def merged(first: Iterable[str], second: Iterable[str]) -> list[str]:
    """Both lists in order, without duplicates."""
    return list(dict.fromkeys([*first, *second]))


def settings_from_env(env: Env, current: Mapping[str, Any]) -> Decisions:
    out = Decisions()
    domain = _primary(env)
    # A pattern for any host is left out (ALLOWED_HOSTS never gets '*' from a variable), and
    # named by divio_settings.W013.
    items = read_list(env, variables.DOMAIN_ALIASES)
    hosts = [normalize_host(variables.DOMAIN_ALIASES.name, item) for item in items]
    aliases = [host for host in hosts if host != ANY_HOST]
    ignored = [item for item, host in zip(items, hosts, strict=True) if host == ANY_HOST]
    if ignored:
        out.set(conf.IGNORED_HOSTS, ignored, "DOMAIN_ALIASES")
    redirects = hosts_of(env, variables.DOMAIN_REDIRECTS)
    permanent = read_bool(env, variables.DOMAIN_REDIRECT_PERMANENT)
    served = ([domain] if domain else []) + aliases + redirects
    if not is_cloud(env):
        served += LOCAL_HOSTS
    own = list(current.get("ALLOWED_HOSTS") or [])
    source = "DOMAIN, DOMAIN_ALIASES, DOMAIN_REDIRECTS"
    if domain and ANY_HOST in own:
        # A move never widens access: settings.py's own "any host" (a local default such as
        # ALLOWED_HOSTS = ['*']) gives way to the domains the cloud environment serves.
        own = [host for host in own if host != ANY_HOST]
        source += f"; {ANY_HOST_DROPPED}"
    hosts = merged(own, served)
    out.set("ALLOWED_HOSTS", hosts, source)
    origins = [origin(host) for host in served if host != ANY_HOST and host not in LOCAL_HOSTS]
    if origins:
        trusted = merged(current.get("CSRF_TRUSTED_ORIGINS") or [], origins)
        out.set("CSRF_TRUSTED_ORIGINS", trusted, "DOMAIN, DOMAIN_ALIASES, DOMAIN_REDIRECTS")
    if redirects:
        _redirects(domain, aliases, redirects, out)
    _middleware(current, bool(redirects), out)
    if permanent is not None:
        out.set(conf.DOMAIN_REDIRECT_PERMANENT, permanent, "DOMAIN_REDIRECT_PERMANENT")
    if domain:
        out.set(conf.DOMAIN, domain, "DOMAIN")
    return out


def _primary(env: Env) -> str | None:
    value = get(env, variables.DOMAIN)
    if value is None:
        return None
    if "," in value:
        raise invalid("DOMAIN", "a single domain name", "it contains a comma")
    domain = normalize_host("DOMAIN", value)
    if domain == ANY_HOST or domain.startswith("."):
        raise invalid("DOMAIN", "a single domain name", "wildcards are not allowed here")
    return domain


def _redirects(
    domain: str | None,
    aliases: list[str],
    redirects: list[str],
    out: Decisions,
) -> None:
    if domain is None:
        raise invalid("DOMAIN_REDIRECTS", "DOMAIN to be set", "there is nowhere to redirect to")
    if ANY_HOST in redirects:
        raise invalid("DOMAIN_REDIRECTS", LIST_SHAPE, "'*' would redirect every host")
    # Django's own matching; imported here, as it costs 8 ms (email.message) at settings time.
    from django.utils.http import is_same_domain

    for served in (domain, *aliases):
        if any(is_same_domain(served, pattern) for pattern in redirects):
            raise invalid(
                "DOMAIN_REDIRECTS",
                "domains other than DOMAIN and DOMAIN_ALIASES",
                f"{shown(served)} is served and would also be redirected",
            )
    out.set(conf.DOMAIN_REDIRECTS, redirects, "DOMAIN_REDIRECTS")


def _middleware(current: Mapping[str, Any], redirects: bool, out: Decisions) -> None:
    """The health probes' middleware first, then the domain redirect (with DOMAIN_REDIRECTS):
    no other middleware (host validation, the https redirect, sessions, views) answers before
    them."""
    listed = list(current.get("MIDDLEWARE") or [])
    first = [HEALTH_MIDDLEWARE, *([REDIRECT_MIDDLEWARE] if redirects else [])]
    placed = [*first, *(entry for entry in listed if entry not in first)]
    if placed != listed:
        source = f"DOMAIN_REDIRECTS; {HEALTH_SOURCE}" if redirects else HEALTH_SOURCE
        out.set("MIDDLEWARE", placed, source)
