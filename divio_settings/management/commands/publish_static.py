"""publish_static: this build's hashed static files into the media storage, for the containers
of other versions to redirect to during a rolling deploy; old versions' copies pruned.

Run as a release command (it needs the storage credentials, which the Docker build does not
have), after ``collectstatic`` ran in the build. Content-addressed: a hashed name is a hash of
its bytes, so a file already there is never uploaded twice, two versions never collide, and
running the command again changes nothing but the order of the versions.

In the media storage::

    divio-static/<hashed name>                   each file, once, Cache-Control immutable
    divio-static/manifests/<seq>-<id>.json       the files of one build; the newest K are kept
    divio-static/pending/<id>.json               a build being published (its files are kept)
    divio-static/published.json                  every kept name, for the containers

Manifests are signed with SECRET_KEY (see divio_settings.manifests): one that is not is never
acted on.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.core.management.base import BaseCommand, CommandError, CommandParser

from divio_settings import conf, manifests
from divio_settings.published import INDEX, PUBLISHED

MANIFESTS: Final = manifests.MANIFESTS
IMMUTABLE: Final = "public, max-age=31536000, immutable"
THREADS: Final = 8  # uploads at once: object stores answer each request in tens of ms
KEEP: Final = 5
SEQUENCE: Final = re.compile(re.escape(MANIFESTS) + r"([0-9]{1,20})-")


class Command(BaseCommand):
    help = (
        "Copy this build's hashed static files to the media storage (divio-static/), so that "
        "containers of other versions can redirect to them during a rolling deploy, and prune "
        "the copies of all but the newest --keep versions."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--keep",
            type=int,
            default=KEEP,
            help=f"versions whose files stay (this one included; default {KEEP}; 0: prune none)",
        )

    def handle(self, *args: Any, keep: int, **options: Any) -> None:
        if keep < 0:
            raise CommandError("--keep: expected 0 (prune nothing) or a number of versions")
        static = self.hashing_storage()
        if static is None:
            return
        started = time.perf_counter()
        files = publishable(build_files(static))
        storage = target_storage()
        identity = manifests.identity(files)
        # Announced first: a prune running meanwhile keeps these files. Then every object is
        # checked, not the manifests' word for it (a half-pruned version is repaired), and only
        # then does a manifest list them: no manifest lists an object that is missing.
        pending = f"{manifests.PENDING}{identity}.json"
        manifests.delete(storage, pending)
        manifests.save(storage, pending, files)
        uploaded = sum(parallel(lambda name: upload(static, storage, name), files))
        versions, foreign = manifests.read(storage, manifests.MANIFESTS)
        manifest = f"{manifests.MANIFESTS}{next_sequence(versions):020d}-{identity}.json"
        manifests.save(storage, manifest, files)
        manifests.delete(storage, pending)
        # A prune that read the manifests before this release announced itself may have
        # deleted a shared file meanwhile: checked once more, now that the manifest protects it.
        uploaded += sum(parallel(lambda name: upload(static, storage, name), files))
        for older in [name for name in versions if name.endswith(f"-{identity}.json")]:
            manifests.delete(storage, older)  # the same build published again is the newest
            del versions[older]
        versions[manifest] = set(files)
        self.stdout.write(
            f"published {uploaded} new static files of {len(files)} to {PUBLISHED} in the "
            f"media storage ({len(files) - uploaded} already there), "
            f"{time.perf_counter() - started:.1f} s"
        )
        self.say_foreign(foreign)
        if keep:
            self.prune(storage, versions, keep)
        write_index(storage, versions)

    def say_foreign(self, foreign: list[str]) -> None:
        if foreign:
            self.stdout.write(
                f"left alone: {', '.join(foreign)} (not written by publish_static with this "
                "SECRET_KEY or its fallbacks, or not a list of hashed names below "
                f"{PUBLISHED}; at most {manifests.MAX_NAMES:,}): nothing it lists is deleted"
            )

    def hashing_storage(self) -> Any:
        """The static storage, when there is something to publish (else None, said why)."""
        if not conf.read(conf.STATIC_FALLBACK):
            self.stdout.write(
                "nothing to publish: DIVIO_STATIC_FALLBACK is off (the media storage is not "
                "shared by the containers; DEFAULT_STORAGE_DSN names no S3 or Azure storage)"
            )
            return None
        static: Any = storages["staticfiles"]  # the stubs' Storage cannot be a mixin's
        if not isinstance(static, ManifestFilesMixin):
            backend = settings.STORAGES["staticfiles"]["BACKEND"]
            self.stdout.write(
                f"nothing to publish: STORAGES['staticfiles'] ({backend}) does not hash the "
                "names of static files, so two versions' files cannot be told apart; with a "
                "ManifestFilesMixin storage (apply()'s default, WhiteNoise's "
                "CompressedManifestStaticFilesStorage) they survive a rolling deploy"
            )
            return None
        return static

    def prune(self, storage: Storage, versions: dict[str, set[str]], keep: int) -> None:
        """The versions beyond the newest *keep*: their manifests first (so none ever lists a
        missing object, whenever the process is stopped), then the files no manifest or
        pending publication lists any more, read again just before (another release may
        have published meanwhile); only hashed names below divio-static/."""
        ordered = sorted(versions)  # by the sequence of each publication
        kept, dropped = ordered[-keep:], ordered[:-keep]
        if not dropped:
            return
        for name in dropped:
            manifests.delete(storage, name)
        candidates = set().union(*(versions.pop(name) for name in dropped))
        current, _ = manifests.read(storage, manifests.MANIFESTS)
        pending, _ = manifests.read(storage, manifests.PENDING)
        live = set().union(*versions.values(), *current.values(), *pending.values())
        gone = sorted(name for name in candidates - live if manifests.valid_name(name))
        list(parallel(lambda name: manifests.delete(storage, PUBLISHED + name), gone))
        self.stdout.write(
            f"pruned {len(dropped)} older versions ({len(gone)} files); kept the newest {len(kept)}"
        )


def write_index(storage: Storage, versions: dict[str, set[str]]) -> None:
    """divio-static/published.json: every name of the versions kept, the only names containers
    redirect to (read over HTTP, not cached: see target_storage). The manifests are read again
    first: a release publishing at the same moment adds its own."""
    current, _ = manifests.read(storage, manifests.MANIFESTS)
    body = manifests.json_index(set().union(*versions.values(), *current.values()))
    manifests.delete(storage, INDEX)
    manifests.save(storage, INDEX, ContentFile(body))


def next_sequence(versions: Iterable[str]) -> int:
    """The number of the next manifest: one above the newest there, so that versions are ordered
    by publication, never by a container's clock (a release container an hour behind pruned the
    files it had just published). Names written by earlier releases (nanoseconds) stay in
    order below it."""
    numbers = [int(found.group(1)) for name in versions if (found := SEQUENCE.match(name))]
    return max(numbers, default=0) + 1


def publishable(names: Iterable[str]) -> list[str]:
    """The build's hashed names a manifest can hold (see divio_settings.manifests)."""
    files = sorted({name for name in names if manifests.valid_name(name)})
    if len(files) > manifests.MAX_NAMES:
        raise CommandError(
            f"{len(files):,} hashed static files: publish_static publishes at most "
            f"{manifests.MAX_NAMES:,} (a prune of more would outlast a release command)"
        )
    return files


def build_files(storage: Any) -> Iterable[str]:
    """The hashed names of this build, from collectstatic's manifest in *storage*."""
    loaded: Any = storage.load_manifest()  # (paths, hash of the manifest) since Django 4.2
    hashed: dict[str, str] = loaded[0]
    if not hashed:
        raise CommandError(
            f"no {storage.manifest_name} in STATIC_ROOT ({settings.STATIC_ROOT}): run "
            "collectstatic first (the Dockerfile's build step does)"
        )
    return hashed.values()


def target_storage() -> Storage:
    """The media storage, with the published copies' own header (far-future, immutable)."""
    from divio_settings.storage.backend import DSNStorage

    storage = storages["default"]
    backend: Any = storage.backend if isinstance(storage, DSNStorage) else storage
    rules = getattr(backend, "media_headers", None)
    if rules is not None:  # ours, for S3 and Azure
        index = re.compile(r"(?:^|/)" + re.escape(INDEX) + "$")
        pattern = re.compile(r"(?:^|/)" + re.escape(PUBLISHED))
        backend.media_headers = [
            (index, {"CacheControl": "no-cache", "ContentType": "application/json"}),
            (pattern, {"CacheControl": IMMUTABLE}),
            *rules,
        ]
    return storage


def upload(static: Any, storage: Storage, name: str) -> bool:
    """The file of *static* into *storage*, unless it is there already (same name, same
    bytes)."""
    target = PUBLISHED + name
    if storage.exists(target):
        return False
    with static.open(name) as handle:
        manifests.save(storage, target, handle)
    return True


def parallel(function: Callable[[str], Any], names: list[str]) -> Iterable[Any]:
    if len(names) < 2:
        return [function(name) for name in names]
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(function, names))
