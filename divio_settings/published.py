"""What publish_static has published, as a container reads it: the index
``divio-static/published.json`` (every hashed name of the versions it keeps), fetched over HTTP
from the media storage's own URL (no storage SDK in the container), and again at most every
REFRESH seconds when a name it does not list is asked for. StaticMissMiddleware redirects only to
names the index lists."""

from __future__ import annotations

import json
import logging
import time
from typing import Final

PUBLISHED: Final = "divio-static/"  # where publish_static puts the copies in the media storage
INDEX: Final = PUBLISHED + "published.json"
REFRESH: Final = 10.0  # seconds between two fetches of the index
TIMEOUT: Final = 2.0  # seconds a fetch may take
MAX_INDEX: Final = 16 * 1024 * 1024  # bytes
log = logging.getLogger("divio_settings.static")


class PublishedNames:
    """The index's names, fetched when first asked for and refreshed when a name is missing
    (a newer version published since), at most every REFRESH seconds, so a flood of unknown
    names costs one fetch per REFRESH."""

    def __init__(self) -> None:
        self.names: frozenset[str] = frozenset()
        self.fetched: float | None = None

    def __contains__(self, name: object) -> bool:
        if name in self.names:
            return True
        now = time.monotonic()
        if self.fetched is not None and now - self.fetched < REFRESH:
            return False
        self.fetched = now
        fetched = fetch_index()
        if fetched is not None:
            self.names = fetched
        return name in self.names


def fetch_index() -> frozenset[str] | None:
    """The names of the published index, or None (logged, without the URL: it may be signed)
    when the storage cannot be read."""
    from urllib.request import urlopen

    from django.core.files.storage import default_storage

    try:
        with urlopen(default_storage.url(INDEX), timeout=TIMEOUT) as answer:
            body = answer.read(MAX_INDEX + 1)
        if len(body) > MAX_INDEX:
            raise ValueError("the index is larger than 16 MiB")
        files = json.loads(body)["files"]
        if not isinstance(files, list) or not all(isinstance(name, str) for name in files):
            raise ValueError("the index is not a list of names")
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.warning("The published static index cannot be read (%s)", type(error).__name__)
        return None
    return frozenset(files)


NAMES: Final = PublishedNames()
