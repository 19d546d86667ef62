"""The static files storage apply() chooses when settings.py has none: WhiteNoise's compressed,
hashed storage that never fails a build (or the pages) the project's own storage passed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

from whitenoise.storage import CompressedManifestStaticFilesStorage as WhiteNoiseStorage

MISSING: Final = "The file '"

logger = logging.getLogger("divio_settings")


class CompressedManifestStaticFilesStorage(WhiteNoiseStorage):  # type: ignore[misc]
    """A reference in a CSS or JS file to a file that does not exist (a source map the project
    never shipped) stays as written, and one warning line names the file and the reference,
    instead of stopping collectstatic: Django's plain storage, the default before the move,
    never looked at references."""

    def url_converter(
        self, name: str, hashed_files: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Callable[[Any], str]:
        # Django 6 added arguments after template: passed on as given.
        convert: Callable[[Any], str] = super().url_converter(name, hashed_files, *args, **kwargs)
        said = self.__dict__.setdefault("_divio_missing_said", set())

        def converter(matchobj: Any) -> str:
            try:
                return convert(matchobj)
            except ValueError as error:
                if not str(error).startswith(MISSING):
                    raise
                reference = str(matchobj["url"]).strip()
                if (name, reference) not in said:  # post-processing passes over a file again
                    said.add((name, reference))
                    logger.warning(
                        "static files: %s references %s, which does not exist: left as written",
                        name,
                        reference,
                    )
                return str(matchobj["matched"])

        return converter

    def save_manifest(self) -> None:
        """Entries of the manifest already in STATIC_ROOT (a project that commits its collected
        files and their staticfiles.json) whose files are there but no longer collected from any
        source are kept: dropped, every page naming them would fail (manifest_strict)."""
        old, _ = self.load_manifest()
        kept = {
            name: hashed
            for name, hashed in old.items()
            if name not in self.hashed_files and self.exists(hashed)
        }
        if kept:
            logger.warning(
                "static files: %d entries of the existing %s kept, their files are in "
                "STATIC_ROOT but collected from no source: %s",
                len(kept),
                self.manifest_name,
                ", ".join(sorted(kept)[:5]) + (", …" if len(kept) > 5 else ""),
            )
            self.hashed_files.update(kept)
        super().save_manifest()
