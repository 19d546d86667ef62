"""Minimal settings for the unit tests; apply() itself is tested on plain dicts."""

from __future__ import annotations

SECRET_KEY = "tests-only-not-secret-" + "x" * 40
DEBUG = False
ALLOWED_HOSTS = ["testserver", "example.com", "www.example.com", "old.example.com"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "divio_settings",
]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "tests.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
STATIC_URL = "/static/"
USE_TZ = True
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
