from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db.migrations.writer import MigrationWriter
from django.test import SimpleTestCase, override_settings

from divio_settings.storage.backend import DSNStorage
from tests.helpers import child_env, run_tool

ROOT = Path(__file__).parent.parent


class FileDSNStorageTests(SimpleTestCase):
    def test_round_trip_through_a_file_dsn(self):
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            storage = DSNStorage(f"file://{tmp}/?url=%2Fmedia%2F")
            name = storage.save("a/b c.txt", ContentFile(b"x" * 10))
            assert storage.exists(name)
            assert storage.size(name) == 10
            assert storage.listdir("a") == ([], ["b c.txt"])
            assert storage.url(name) == "/media/a/b%20c.txt"
            assert storage.path(name) == os.path.join(tmp, "a", "b c.txt")
            with storage.open(name) as handle:
                assert handle.read() == b"x" * 10
            assert storage.get_created_time(name) <= storage.get_modified_time(name)
            assert storage.get_accessed_time(name).year >= 2024
            assert storage.get_available_name(name) != name
            assert storage.generate_filename("x/y .txt") == "x/y_.txt"
            assert storage.get_valid_name("a b!.txt") == "a_b.txt"
            assert storage.get_alternative_name("f", ".txt").startswith("f_")
            assert storage.location == tmp  # backend attributes pass through
            storage.delete(name)
            assert not storage.exists(name)

    def test_deconstruct_never_carries_the_dsn(self):
        storage = DSNStorage("s3://KEY:SECRET@b.s3.amazonaws.com/", alias="private")
        assert storage.deconstruct() == (
            "divio_settings.storage.backend.DSNStorage",
            (),
            {"alias": "private"},
        )
        written, _ = MigrationWriter.serialize(storage)
        assert "SECRET" not in written
        assert "private" in written
        assert "SECRET" not in repr(storage)

    @override_settings(
        STORAGES={
            "private": {
                "BACKEND": "divio_settings.storage.backend.DSNStorage",
                "OPTIONS": {"dsn": "file:///tmp/x/"},
            }
        }
    )
    def test_alias_only_reads_the_dsn_from_storages(self):
        assert DSNStorage(alias="private").dsn.value == "file:///tmp/x/"

    def test_private_attributes_do_not_build_the_backend(self):
        storage = DSNStorage("s3://K:s3cr3t-key@b.s3.amazonaws.com/")
        with pytest.raises(AttributeError, match="_nothing"):
            storage._nothing  # noqa: B018
        assert storage._backend is None


def test_no_backend_imported_until_media_is_used():
    """apply() with an S3 DSN and django.setup() import neither boto3 nor storages nor furl."""
    code = """
import json, os, sys
import django
from django.conf import settings
import divio_settings
ns = {"INSTALLED_APPS": ["django.contrib.staticfiles"], "__file__": "/app/x/settings.py"}
divio_settings.apply(ns, environ=json.loads(os.environ["ENV_JSON"]))
settings.configure(**{k: v for k, v in ns.items() if k.isupper()})
django.setup()
from django.core.files.storage import default_storage
default_storage._setup()
print(json.dumps(sorted(m for m in ("boto3", "botocore", "storages", "furl", "azure") if m in sys.modules)))
"""
    env = {
        **child_env(),
        "ENV_JSON": json.dumps(
            {
                "DOMAIN": "x.aldryn.io",
                "SECRET_KEY": "k" * 50,
                "DEFAULT_STORAGE_DSN": "s3://K:s3cr3t-key@b.s3.amazonaws.com/?domain=cdn.example.com",
            }
        ),
    }
    result = run_tool([sys.executable, "-c", code], env=env, cwd=ROOT)
    assert json.loads(result.stdout) == []


def test_a_dsn_is_split_once_in_settings_and_once_in_the_backend(tmp_path):
    """From apply() to a saved file: the group splits DEFAULT_STORAGE_DSN once (settings are
    data, so the DSN travels as text in STORAGES), the backend once more, and nothing else
    splits it again: every later step takes the StorageDSN."""
    code = """
import json, os, sys
from urllib import parse
import django
from django.conf import settings
import divio_settings
from divio_settings import env
from divio_settings.storage import dsn
splits = []
original = parse.urlsplit
def counting(url, *args, **kwargs):
    if url == os.environ["DSN"]:
        splits.append(url)
    return original(url, *args, **kwargs)
dsn.urlsplit = env.urlsplit = counting
ns = {"INSTALLED_APPS": [], "__file__": "/app/x/settings.py"}
divio_settings.apply(ns, environ={"DEFAULT_STORAGE_DSN": os.environ["DSN"]})
in_settings = len(splits)
settings.configure(**{k: v for k, v in ns.items() if k.isupper()})
django.setup()
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
name = default_storage.save("a.txt", ContentFile(b"x"))
default_storage.url(name)
default_storage.exists(name)
print(json.dumps([in_settings, len(splits)]))
"""
    dsn = f"file://{tmp_path}/?url=%2Fmedia%2F"
    env = {**child_env(), "DSN": dsn}
    result = run_tool([sys.executable, "-c", code], env=env, cwd=ROOT)
    assert json.loads(result.stdout) == [1, 2]
    assert (tmp_path / "a.txt").read_bytes() == b"x"
