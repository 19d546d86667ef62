from __future__ import annotations

from django.test import SimpleTestCase, override_settings

SECRETS = {
    "DEFAULT_STORAGE_DSN": "s3://AKIA:dsnsecret@b.s3.amazonaws.com/",
    "CELERY_BROKER_URL": "amqp://guest:brokersecret@rabbit:5672/",
    "STORAGES": {
        "default": {"BACKEND": "x", "OPTIONS": {"dsn": "az://a:sassecret@blob.core.windows.net/c"}},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    },
    "CACHES": {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "redis://:cachesecret@h:6379/0",
            "OPTIONS": {"password": "dbsecret"},
        }
    },
}


@override_settings(
    DEBUG=True,
    DEFAULT_EXCEPTION_REPORTER_FILTER="divio_settings.debug_page.SafeExceptionReporterFilter",
    DEFAULT_EXCEPTION_REPORTER="divio_settings.debug_page.ExceptionReporter",
    **SECRETS,
)
class DebugPageTests(SimpleTestCase):
    def test_debug_page_masks_dsns_and_url_passwords(self):
        self.client.raise_request_exception = False
        response = self.client.get("/boom/", headers={"accept": "text/html"})
        assert response.status_code == 500
        page = response.content.decode()
        assert "DEFAULT_STORAGE_DSN" in page
        assert "CELERY_BROKER_URL" in page
        for secret in (
            "dsnsecret",
            "brokersecret",
            "sassecret",
            "dbsecret",
            "cachesecret",
            "tests-only-not-secret",
        ):
            assert secret not in page
        assert "amqp://guest:********@rabbit:5672/" in page

    def test_a_secret_held_as_bytes_is_masked(self):
        """pprint splits a long bytes value into pieces on the page: masked before (#36)."""
        from django.views.debug import get_default_exception_reporter_filter

        from divio_settings import redaction

        # Django keeps the first filter a process used; here it must be the configured one.
        get_default_exception_reporter_filter.cache_clear()  # type: ignore[attr-defined]
        self.addCleanup(get_default_exception_reporter_filter.cache_clear)  # type: ignore[attr-defined]
        key = "K3y" + "x1Rwdm1klEQOPukngZFO58vbbpeqp5l0ogdRspdKZTuutJ5V2ov" * 2
        self.client.raise_request_exception = False
        saved = redaction.process_scrubber()
        redaction.remember([key])
        try:
            with self.settings(SECRET_KEY=key):
                for accept in ("text/html", "text/plain"):
                    page = self.client.get("/boom-bytes/", headers={"accept": accept})
                    text = page.content.decode()
                    assert "boom with 105 and 105 bytes" in text
                    for piece in (key[:40], key[-40:], key[40:80]):
                        assert piece not in text, accept
        finally:
            redaction.remember(saved.raw)

    def test_text_report_masks_too(self):
        self.client.raise_request_exception = False
        with self.settings(CELERY_BROKER_URL="amqp://guest:brokersecret@rabbit:5672/"):
            text = self.client.get("/boom/", headers={"accept": "text/plain"}).content.decode()
        assert "RuntimeError" in text
        assert "brokersecret" not in text
        assert "amqp://guest:********@rabbit:5672/" in text


@override_settings(DEBUG=True, **SECRETS)
class PlainDjangoLeaksTests(SimpleTestCase):
    """Why the reporter exists: Django's own page shows a URL password in the message."""

    def test_django_default_page_shows_the_exception_message(self):
        self.client.raise_request_exception = False
        with self.settings(CELERY_BROKER_URL="amqp://guest:brokersecret@rabbit:5672/"):
            page = self.client.get("/boom/", headers={"accept": "text/html"}).content.decode()
        assert "brokersecret" in page


FORM = {
    "username": "ada",
    "email": "ada@example.com",
    "password": "Zq8typedPassw0rd",
    "new_password2": "Zq8typedPassw0rd2",
    "cardNumber": "4111111111111111",
    "card_cvc": "737",
    "otp": "492817",
    "pin": "8812",
    "shipping": "express",
    "api_key": "Zq8apiKey55",
}
SECRET_FIELDS = ("password", "new_password2", "cardNumber", "card_cvc", "otp", "pin", "api_key")


def test_secret_form_fields_by_name():
    from divio_settings.redaction import is_secret_field

    for name in (*SECRET_FIELDS, "passwd", "pwd", "csrfmiddlewaretoken", "credit_card", "apiKey"):
        assert is_secret_field(name), name
    for name in ("username", "email", "shipping", "footprint", "spinner", "title", "next"):
        assert not is_secret_field(name), name


def test_the_filter_masks_secret_fields_without_the_decorator_and_keeps_it():
    """A view that fails before sensitive_post_parameters applies (allauth's rate limiter)
    still shows no password; the decorator's own choice is applied on top."""
    from django.test import RequestFactory

    from divio_settings.debug_page import SafeExceptionReporterFilter

    request = RequestFactory().post("/login/", FORM)
    for debug in (False, True):
        with override_settings(DEBUG=debug):
            shown = SafeExceptionReporterFilter().get_post_parameters(request)
            assert {name: shown[name] for name in FORM} == {
                name: "********" if name in SECRET_FIELDS else value for name, value in FORM.items()
            }
    request.sensitive_post_parameters = ["email"]  # type: ignore[attr-defined]
    with override_settings(DEBUG=False):
        shown = SafeExceptionReporterFilter().get_post_parameters(request)
    assert shown["email"] == "********"
    assert shown["username"] == "ada"
    assert request.POST["password"] == "Zq8typedPassw0rd"  # the request itself is untouched


def test_sentry_request_data_masks_secret_fields():
    from divio_settings.sentry import scrub_event

    event = {"request": {"url": "https://example.com/login/", "data": dict(FORM)}}
    scrubbed = scrub_event(event)
    assert {name: scrubbed["request"]["data"][name] for name in FORM} == {
        name: "********" if name in SECRET_FIELDS else value for name, value in FORM.items()
    }
