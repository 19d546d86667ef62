"""Redaction: what keeps secrets out of everything shown (the report, the command, logs, error
mail, Sentry events and the debug page).

It works two ways. By value: apply() collects the values of the variables the registry marks
secret (a URL's password and credential query arguments, a key as a whole) and every occurrence
of them is replaced. By shape: the password in any ``scheme://user:password@`` and settings
named like Django's own hidden settings, for secrets the environment did not give.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import unquote, unquote_plus, urlsplit

REDACTED: Final = "********"

# Django's own list (SafeExceptionReporterFilter.hidden_settings) plus the names that hold DSNs.
SECRET_WORDS: Final = (
    "API",
    "AUTH",
    "TOKEN",
    "KEY",
    "SECRET",
    "PASS",
    "SIGNATURE",
    "HTTP_COOKIE",
    "DSN",
    "CREDENTIAL",
)
# Form fields whose values are secrets (a visitor's password, card, one-time code): masked in
# every error report the library owns, whatever sensitive_post_parameters says (a view can fail
# before its decorator applies: a rate limiter in a login view). Words found anywhere in the
# name, and short ones only as a word of their own ("pin", not "shipping").
SECRET_FIELD_WORDS: Final = ("PASS", "PWD", "SECRET", "TOKEN", "CREDENTIAL", "AUTH", "KEY")
SECRET_FIELD_WORDS_TOO: Final = ("CARD", "SIGNATURE", "CSRF", "SESSION", "IBAN")
SECRET_FIELD_TOKENS: Final = frozenset({"PIN", "OTP", "CVV", "CVC", "CVV2", "SSN", "TAN", "API"})
# Query arguments of a URL that carry a credential (redis' password=, an Azure SAS' sig=, …).
SECRET_ARGUMENTS: Final = frozenset({"password", "passwd", "secret", "sig", "token", "key"})
# Shorter secret values are not scrubbed by value: a 3-letter password would mask every word
# that contains it. Those are still caught by shape (the password of a URL).
MIN_SECRET_LENGTH: Final = 6
# A secret shorter than this may be an ordinary word ("SECRET", "changeme"): it is masked where
# it stands as a token of its own, not inside a longer word ("SECRET_KEY fingerprint" stays).
# A longer one is masked wherever it occurs.
WORD_LENGTH: Final = 12


def secrets_of(value: str) -> set[str]:
    """The secret parts of one secret variable's value: for a URL its password and credential
    query arguments (as written and decoded), for anything else the value itself."""
    if "://" not in value:
        return {item.strip() for item in value.split(",")} | {value}
    found: set[str] = set()
    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError:
        return {value}
    if password:
        found.update({password, unquote(password)})
    for pair in parts.query.split("&"):
        key, _, raw = pair.partition("=")
        if raw and unquote_plus(key).lower() in SECRET_ARGUMENTS:
            found.update({raw, unquote(raw), unquote_plus(raw)})
    return found


def user_of(value: str) -> str | None:
    """The user name of a URL secret (HTTP Basic and SMTP AUTH send it with the password)."""
    if "://" not in value:
        return None
    try:
        user = urlsplit(value).username
    except ValueError:
        return None
    return unquote(user) if user else None


def spellings(secret: str, user: str | None = None) -> set[str]:
    """Every way *secret* is written where it leaves the process: as it is; percent-encoded (in
    URLs, upper and lower case hex, ``+`` for blanks); escaped by ``repr()`` and JSON (log lines,
    Sentry events) and as libpq quotes it in a connection string; each of those HTML-escaped as
    Django's templates and markupsafe escape them
    (the debug page is HTML); base64 of ``user:password`` and ``\\0user\\0password`` (HTTP Basic,
    SMTP AUTH PLAIN) and of the password alone (SMTP AUTH LOGIN)."""
    import base64
    import html
    import json
    from urllib.parse import quote, quote_plus

    quoted = quote(secret, safe="")
    forms = {secret, quoted, quote_plus(secret), re.sub("%[0-9A-F]{2}", _lower, quoted)}
    # libpq's conninfo quotes a value with \\ before ' and \\ (psycopg's connection string).
    conninfo = secret.replace("\\", "\\\\").replace("'", "\\'")
    for base in dict.fromkeys((secret, conninfo)):
        for text in (base, repr(base)[1:-1], json.dumps(base)[1:-1]):
            escaped = html.escape(text)
            forms |= {text, escaped, escaped.replace("&#x27;", "&#39;").replace("&quot;", "&#34;")}
    sent = [secret] + ([f"{user}:{secret}", f"\0{user}\0{secret}"] if user else [])
    forms |= {base64.b64encode(text.encode()).decode() for text in sent}
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


def _lower(match: re.Match[str]) -> str:
    return match.group(0).lower()


class Scrubber:
    """Replaces every occurrence of known secret values: one linear str.replace per secret,
    longest first (so a secret containing another is replaced whole). No regex: nothing to
    compile and nothing that can backtrack on hostile text. The raw values are split into their
    secret parts on first use, not at start-up."""

    def __init__(self, raw: Iterable[str] = ()) -> None:
        self.raw = tuple(raw)
        self._values: tuple[str, ...] | None = None

    @property
    def values(self) -> tuple[str, ...]:
        if self._values is None:
            spelled: set[str] = set()
            for value in self.raw:
                user = user_of(value)
                for part in secrets_of(value):
                    if len(part) >= MIN_SECRET_LENGTH:
                        spelled |= spellings(part, user)
            self._values = tuple(sorted(spelled, key=len, reverse=True))
        return self._values

    def __call__(self, text: str) -> str:
        for value in self.values:
            if value in text:
                if len(value) >= WORD_LENGTH:
                    text = text.replace(value, REDACTED)
                else:
                    text = _replace_tokens(text, value)
        return text


def _word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _free_before(text: str, at: int) -> bool:
    """Whether a token may start at *at*: after a non-word character, at the start, or right
    after an escape: %3A of a quoted URL, or a repr's backslash escapes (newline, x41, u00e9)."""
    return (
        at == 0
        or not _word(text[at - 1])
        or (at >= 3 and text[at - 3] == "%")
        or (at >= 2 and text[at - 2] == "\\")
        or (at >= 4 and text[at - 4 : at - 2] == "\\x")
        or (at >= 6 and text[at - 6 : at - 4] == "\\u")
    )


def _replace_tokens(text: str, value: str) -> str:
    """*value* replaced where it is not part of a longer word; linear: each occurrence is found
    once by str.find and judged by the characters beside it."""
    head, tail = _word(value[0]), _word(value[-1])
    pieces: list[str] = []
    start, at = 0, text.find(value)
    while at != -1:
        end = at + len(value)
        if (not head or _free_before(text, at)) and (
            not tail or end == len(text) or not _word(text[end])
        ):
            pieces += (text[start:at], REDACTED)
            start = end
            at = text.find(value, end)
        else:
            at = text.find(value, at + 1)
    pieces.append(text[start:])
    return "".join(pieces)


# The secret values of the environment apply() last ran with: the process's own, for what runs
# where no settings object is at hand (log lines, Sentry's before_send, the debug page, the
# command's last-resort error line). A report keeps the scrubber of its own apply().
_process: Scrubber = Scrubber()


def remember(raw: Iterable[str]) -> Scrubber:
    """The scrubber of these secret values, from now on the process's (apply() calls this)."""
    global _process
    _process = Scrubber(raw)
    return _process


def process_scrubber() -> Scrubber:
    return _process


# Fingerprints tell two signing keys apart (two containers, two rotation steps); they are shown
# for the signing keys only, never for a password: a fingerprint of a guessable password is a
# way to check guesses offline. scrypt makes each guess cost what an interactive login's does
# (16 MiB of memory, benchmarks/fingerprint.py), with a fixed salt so that every container
# prints the same fingerprint for the same key.
FINGERPRINTED: Final = frozenset({"SECRET_KEY", "SECRET_KEY_FALLBACKS"})
FINGERPRINT_SALT: Final = b"divio-settings fingerprint v2"
SCRYPT: Final = {"n": 2**14, "r": 8, "p": 1, "maxmem": 64 * 1024 * 1024}


@functools.lru_cache(maxsize=16)
def fingerprint(secret: str) -> str:
    """12 hex characters of scrypt(*secret*): equal keys give equal fingerprints, and nothing of
    the key can be read back; a guess costs a whole scrypt."""
    import hashlib

    digest = hashlib.scrypt(secret.encode(), salt=FINGERPRINT_SALT, dklen=6, **SCRYPT)
    return digest.hex()


def masked(value: Any) -> Any:
    """A signing key's value for the report: masked, with the fingerprint of each key."""
    if isinstance(value, str) and value:
        return f"{REDACTED} ({fingerprint(value)})"
    if isinstance(value, list | tuple):
        return type(value)(masked(item) for item in value)
    return REDACTED if value not in (None, "", [], (), {}) else value


def is_secret_field(name: str) -> bool:
    """Whether a form field named *name* holds a secret (SECRET_FIELD_WORDS and _TOKENS)."""
    upper = name.upper()
    if any(word in upper for word in SECRET_FIELD_WORDS + SECRET_FIELD_WORDS_TOO):
        return True
    words = re.split(r"[^A-Za-z0-9]+|(?<=[a-z])(?=[A-Z])", name)
    return any(word.upper() in SECRET_FIELD_TOKENS for word in words)


def is_secret_name(name: str) -> bool:
    upper = name.upper()
    return any(word in upper for word in SECRET_WORDS)


@functools.cache
def _url_password() -> re.Pattern[str]:
    # Starts with the literal "://" (the engine finds it by a fast scan; a scheme is only looked
    # at as the one character before it), and every part of the match stops at the next "/",
    # "?", "#" or blank: each attempt covers its own stretch of text, so the whole search is
    # linear. The greedy part before "@" reaches the last "@" before the path, as a browser does.
    return re.compile(r"://(?P<user>[^/?#\s:]*):[^/?#\s]*@")


def mask_url_passwords(text: str) -> str:
    """``scheme://user:password@`` becomes ``scheme://user:********@``, in linear time whatever
    the text (the former pattern, which matched the scheme first, backtracked on long runs of
    letters: 2 s for 32 KB)."""
    return _url_password().sub(rf"://\g<user>:{REDACTED}@", text)


def redact(
    value: Any, name: str = "", fingerprints: bool = False, scrub: Scrubber | None = None
) -> Any:
    """A copy of *value* fit to print: secret-named entries masked (with fingerprints where
    asked, for the report), the environment's secret values scrubbed (by *scrub*, else the
    process's), URL passwords removed."""
    scrub = _process if scrub is None else scrub
    if name and is_secret_name(name):
        if fingerprints and name in FINGERPRINTED:
            return masked(value)
        return REDACTED if value not in (None, "", [], (), {}) else value
    if isinstance(value, str):
        value = scrub(value)
        return mask_url_passwords(value) if "@" in value and "://" in value else value
    if isinstance(value, Mapping):
        return {key: redact(item, str(key), fingerprints, scrub) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(item, "", fingerprints, scrub) for item in value)
    return value
