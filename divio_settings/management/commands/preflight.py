"""preflight: every service the settings configure, proven with their real credentials before
the deploy takes traffic (a release command, after migrate and publish_static). Exit 1 when one
fails, so that the release stops and the old containers keep serving."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from divio_settings.preflight import DEFAULT_TIMEOUT, FAIL, Result, every_probe, run_all


class Command(BaseCommand):
    help = (
        "A real round trip to every service the settings configure (databases, media storages, "
        "published static files, caches, mail, the Celery broker, Sentry), with their own "
        "credentials, each bounded by a timeout; one line per service, no secret shown; exit "
        "status 1 when one fails. Run it as a release command after migrate."
    )
    requires_system_checks: Any = []  # `migrate` before it ran them; a failing one is no answer

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--timeout",
            type=float,
            default=DEFAULT_TIMEOUT,
            help=f"seconds each service may take (all run at once; default {DEFAULT_TIMEOUT:g})",
        )
        parser.add_argument(
            "--json", action="store_true", help="one JSON list of results on stdout"
        )
        parser.add_argument(
            "--send-test-event",
            action="store_true",
            help="send one test event to Sentry (by default only its host is reached)",
        )

    def handle(self, *args: Any, timeout: float, **options: Any) -> None:
        if not 0 < timeout <= 300:
            raise CommandError("--timeout: expected seconds between 0 and 300")
        results = run_all(every_probe(options["send_test_event"]), timeout)
        failed = [result for result in results if result.status == FAIL]
        if options["json"]:
            self.stdout.write(json.dumps([result.as_dict() for result in results], indent=2))
        else:
            self.write_lines(results)
        if failed:
            names = ", ".join(result.label for result in failed)
            raise CommandError(
                f"preflight: {len(failed)} of {len(results)} services failed ({names})",
                returncode=1,
            )
        if not options["json"]:
            self.stdout.write(f"preflight: {len(results)} services checked, none failed")

    def write_lines(self, results: list[Result]) -> None:
        width = max((len(result.label) for result in results), default=0)
        for result in results:
            status = result.status.upper() if result.status == FAIL else result.status
            timing = f" ({result.seconds * 1000:.0f} ms)" if result.status != "skip" else ""
            line = f"{status:<4}  {result.label:<{width}}  {result.detail}{timing}"
            style = self.style.ERROR if result.status == FAIL else self.style.SUCCESS
            self.stdout.write(line, style if result.status != "skip" else None)
