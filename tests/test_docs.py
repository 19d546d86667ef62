"""The docs cannot drift from the code."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import divio_settings
from divio_settings import conventions, variables

ROOT = Path(__file__).parent.parent


def registered() -> list[str]:
    return [variable.name for variable in variables.VARIABLES]


def module_of(group: str) -> str:
    return (
        "divio_settings/storage/__init__.py" if group == "storage" else f"divio_settings/{group}.py"
    )


def fields_line(variable: variables.Variable) -> str:
    """The line under a variable's heading in docs/reference/variables.md, from the registry."""
    sets = ", ".join(f"`{setting}`" for setting in variable.sets) or "nothing"
    name = variable.name.replace(variables.PREFIX, "ALT")
    example = f"`{name}={variable.example}`"
    if variable.context:
        example += " with " + ", ".join(f"`{n}={v}`" for n, v in variable.context)
    return (
        f"*Group* `{variable.group}` (`{module_of(variable.group)}`) · *shape* {variable.kind} · "
        f"*secret* {'yes' if variable.secret else 'no'} · *default* {variable.default} · "
        f"*sets* {sets} · *example* {example}"
    )


def test_variables_reference_lists_exactly_the_registered_variables():
    text = (ROOT / "docs" / "reference" / "variables.md").read_text()
    assert re.findall(r"^## `([^`]+)`$", text, re.MULTILINE) == registered()


@pytest.mark.parametrize("variable", variables.VARIABLES, ids=lambda variable: variable.name)
def test_variables_reference_says_what_the_registry_says(variable):
    """Group, module, shape, secrecy, default and settings, field by field."""
    text = (ROOT / "docs" / "reference" / "variables.md").read_text()
    section = text.split(f"## `{variable.name}`\n\n", 1)[1]
    assert section.split("\n", 1)[0] == fields_line(variable)
    assert (ROOT / module_of(variable.group)).exists()


class RecordingEnv(dict[str, str]):
    """An environment that remembers which names were read (not merely listed)."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return super().__getitem__(key)


def test_code_reads_only_registered_variables(monkeypatch):
    """Every name apply() reads, over environments that wake every group, is registered (or is
    a member of a registered <PREFIX>_ family)."""
    from tests.helpers import LIVE_ENV, LOCAL_ENV

    everything = {
        **LIVE_ENV,
        "ALT_DATABASE_DSN": "postgres://u:pa55w0rd@h:5432/alt",
        "ALT_STORAGE_DSN": "file:///data/alt/?url=%2Falt%2F",
        "CACHE_URL": "redis://h:6379/0",
        "SESSIONS_CACHE_URL": "locmem://",
        "EMAIL_URL": "console:",
        "DEFAULT_FROM_EMAIL": "a@example.com",
        "SENTRY_DSN": "https://k@o1.ingest.sentry.io/1",
        "GIT_COMMIT": "a" * 40,
        "DEFAULT_AMQP_BROKER_URL": "amqp://u:pa55w0rd@h:5672/v",
        "UNRELATED": "x",
    }
    from divio_settings import sentry

    monkeypatch.setattr(sentry, "init", lambda *args: None)  # read, but start nothing
    # Other conventions' names are looked at only to say they are not read (check W014); a
    # secret may come from <NAME>_FILE.
    names = set(registered()) | set(conventions.FOREIGN_NAMES)
    names |= {f"{v.name}_FILE" for v in variables.VARIABLES if v.secret}
    families = [
        variable.suffix for variable in variables.VARIABLES if variable.name != variable.suffix
    ]
    families += [f"{variable.suffix}_FILE" for variable in variables.VARIABLES if variable.secret]
    read: set[str] = set()
    for values in ({}, dict(LOCAL_ENV), everything):
        recording = RecordingEnv(values)
        divio_settings.apply({"__file__": "/app/x/settings.py"}, environ=recording)
        read |= recording.read
    assert "UNRELATED" not in read
    unregistered = {n for n in read - names if not any(n.endswith(f) for f in families)}
    assert not unregistered
    # Every registered variable that is not a family is read somewhere.
    assert {n for n in names if not n.startswith(variables.PREFIX)} <= read


def test_readme_lists_every_variable():
    readme = (ROOT / "README.md").read_text()
    for name in registered():
        assert f"`{name}`" in readme


def test_readme_support_statement_matches_classifiers():
    pyproject = (ROOT / "pyproject.toml").read_text()
    pythons = re.findall(r"Programming Language :: Python :: (3\.\d+)\"", pyproject)
    djangos = re.findall(r"Framework :: Django :: (\d\.\d)\"", pyproject)
    readme = (ROOT / "README.md").read_text()
    assert f"Python {pythons[0]} to {pythons[-1]}" in readme
    assert "Django " + ", ".join(djangos[:-1]) + f" and {djangos[-1]}" in readme


def test_readme_support_table_and_extras_match_pyproject():
    pyproject = (ROOT / "pyproject.toml").read_text()
    readme = (ROOT / "README.md").read_text()
    pythons = re.findall(r"Programming Language :: Python :: (3\.\d+)\"", pyproject)
    djangos = re.findall(r"Framework :: Django :: (\d\.\d)\"", pyproject)
    header = "| | " + " | ".join(f"Python {p}" for p in pythons) + " |"
    assert header in readme
    rows = re.findall(r"^\| Django (\d\.\d)[^|]*\|(.*)\|$", readme, re.MULTILINE)
    assert [version for version, _ in rows] == djangos
    for version, cells in rows:
        supported = [
            p for p, cell in zip(pythons, cells.split("|"), strict=True) if cell.strip() == "yes"
        ]
        # Django 6.x needs Python 3.12 or later; 5.2 runs on every supported Python.
        expected = pythons if version == "5.2" else [p for p in pythons if p >= "3.12"]
        assert supported == expected, version
    extras = re.findall(
        r"^(\w+) = \[",
        pyproject.split("[project.optional-dependencies]")[1].split("\n[")[0],
        re.MULTILINE,
    )
    assert re.findall(r"^\| `\[(\w+)\]` \|", readme, re.MULTILINE) == extras


def test_every_group_switch_is_documented():
    import inspect

    howto = (ROOT / "docs" / "how-to" / "index.md").read_text()
    parameters = inspect.signature(divio_settings.apply).parameters.values()
    switches = [p.name for p in parameters if p.kind == p.KEYWORD_ONLY and p.name != "environ"]
    assert len(switches) == 11
    for group in switches:
        assert f"`{group}`" in howto


def test_every_page_is_in_the_table_of_contents_with_a_title():
    """A page outside the toctree is unreachable from the site's navigation."""
    index = (ROOT / "docs" / "index.md").read_text()
    toctree = index.split("```{toctree}", 1)[1].split("```", 1)[0]
    listed = {line for line in toctree.splitlines()[1:] if line and not line.startswith(":")}
    pages = {
        str(p.relative_to(ROOT / "docs").with_suffix("")) for p in (ROOT / "docs").rglob("*.md")
    }
    assert pages - {"index"} == listed
    for page in listed:
        text = (ROOT / "docs" / f"{page}.md").read_text()
        if text.startswith("```{include} ../"):  # the changelog page is CHANGELOG.md itself
            text = (ROOT / text.split("../", 1)[1].split("\n", 1)[0]).read_text()
        assert text.startswith("# "), page


def test_tutorial_env_local_is_the_one_the_tests_use():
    """The .env-local the tutorial shows is the deploy guide's, which the e2e tests run with.
    (tests/e2e/test_typed_commands.py runs every command the tutorial tells a reader to type.)"""
    from tests.helpers import LOCAL_ENV

    tutorial = (ROOT / "docs" / "tutorial.md").read_text()
    block = next(
        block
        for block in re.findall(r"```text\n(.*?)```", tutorial, re.DOTALL)
        if block.startswith("DATABASE_URL=")
    )
    assert dict(line.split("=", 1) for line in block.splitlines()) == dict(LOCAL_ENV)


def test_readme_links_and_doc_pages_exist():
    readme = (ROOT / "README.md").read_text()
    for target in re.findall(r"\]\((?!https?://)([^)#]+)\)", readme):
        assert (ROOT / target).exists(), target
    for target in re.findall(r"`(docs/[^`]+\.md)`", readme):
        assert (ROOT / target).exists(), target
    index = (ROOT / "docs" / "index.md").read_text()
    for page in re.findall(r"^([a-z/-]+)$", index, re.MULTILINE):
        assert (ROOT / "docs" / f"{page}.md").exists(), page


def howto_blocks(kind: str) -> list[str]:
    text = (ROOT / "docs" / "how-to" / "index.md").read_text()
    return re.findall(rf"```{kind}\n(.*?)```", text, re.DOTALL)


def test_howto_python_snippets_run(monkeypatch):
    """Every Python block of the how-tos: the settings lines run in a settings namespace, the
    report loop prints rows; the Celery module compiles (Celery is the project's dependency)."""
    import copy
    import io
    from contextlib import redirect_stdout

    from tests.helpers import STARTPROJECT

    blocks = howto_blocks("python")
    assert len(blocks) == 4
    for block in blocks:
        compile(block, "how-to", "exec")
        if "divio_settings.apply(globals()" in block:
            namespace = copy.deepcopy(dict(STARTPROJECT)) | {"divio_settings": divio_settings}
            exec(block, namespace)
            assert namespace["DIVIO_SETTINGS_REPORT"]
            if "SECURE_HSTS_SECONDS = 31536000" in block:
                assert namespace["SECURE_HSTS_SECONDS"] == 31536000  # set after apply(): kept
            if "storage=False" in block:
                assert namespace["STORAGES"]["default"]["BACKEND"].startswith("django.")
        elif "DIVIO_SETTINGS_REPORT" in block:
            from django.test import override_settings

            namespace = copy.deepcopy(dict(STARTPROJECT))
            divio_settings.apply(namespace, environ={})
            out = io.StringIO()
            report = namespace["DIVIO_SETTINGS_REPORT"]
            with override_settings(DIVIO_SETTINGS_REPORT=report), redirect_stdout(out):
                exec(block, {})
            assert "ALLOWED_HOSTS ['localhost', '127.0.0.1', '[::1]'] <- DOMAIN" in out.getvalue()


def test_howto_env_lines_are_valid_and_mean_what_the_text_says():
    (block,) = howto_blocks("text")
    environ = dict(line.split("=", 1) for line in block.splitlines())
    namespace: dict[str, object] = {"__file__": "/app/x/settings.py"}
    divio_settings.apply(namespace, environ=environ)
    # url= is what browsers use: MEDIA_URL and every file URL start with it.
    assert namespace["MEDIA_URL"] == "http://localhost:9000/media/"
    pytest.importorskip("boto3", reason="the s3 extra builds the real backend")
    from divio_settings.storage.backend import build
    from divio_settings.storage.dsn import StorageDSN

    backend = build(StorageDSN(environ["DEFAULT_STORAGE_DSN"]))
    assert backend.url("a b.txt") == "http://localhost:9000/media/a%20b.txt"


def test_the_move_guide_lists_every_foreign_name():
    """docs/how-to/move.md's table of other conventions' names is the registry's, in order."""
    text = (ROOT / "docs" / "how-to" / "move.md").read_text()
    rows = re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \| `([^`]+)` \|$", text, re.MULTILINE)
    assert rows == list(conventions.FOREIGN_NAMES.items())


def test_the_key_rotation_figures_quote_the_stored_result():
    """docs/deployment.md's figures of the two rotations are the stored run of the instances
    end-to-end test (which checks that it reproduces them)."""
    results = json.loads((ROOT / "benchmarks" / "results" / "key_rotation.json").read_text())
    page = " ".join((ROOT / "docs" / "deployment.md").read_text().split())
    two, one = results["two_step"], results["one_step"]
    assert f"{two['visitors']} logged-in visitors" in page
    assert (
        f"the two deploys logged out {two['logged_out']} of {two['visitors']} and lost "
        f"{two['lost_messages']} of {two['messages']} messages"
    ) in page
    assert (
        f"logged out {one['logged_out']} of {one['visitors']} and lost "
        f"{one['lost_messages']} of {one['messages']} messages while both versions served"
    ) in page


def test_the_fingerprint_guessing_cost_quotes_the_stored_result():
    """SECURITY.md's cost of a guess is the stored run of benchmarks/fingerprint.py."""
    results = json.loads((ROOT / "benchmarks" / "results" / "fingerprint.json").read_text())
    page = " ".join((ROOT / "SECURITY.md").read_text().split())
    assert f"each guess costs one scrypt: {results['scrypt_ms']} ms" in page
    assert f"({results['ratio']:,} times the keyed BLAKE2b" in page
    assert f"cost {results['former_blake2b_us']} µs)" in page


def test_the_preflight_how_to_quotes_the_command_s_own_words():
    """The failure lines the how-to shows are the ones the probes print (the integration tests
    assert each line against the real services)."""
    page = " ".join((ROOT / "docs" / "how-to" / "preflight.md").read_text().split())
    import ast

    # The probes' texts as Python reads them (adjacent literals joined, f-strings' parts apart).
    texts = [
        node.value
        for path in sorted((ROOT / "divio_settings" / "preflight").glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    phrases = [
        "cannot connect or query (",
        "unapplied migrations (",
        "run 'python manage.py migrate' before preflight",
        " for a public read: ",
        "add a public-read policy to the bucket, or say acl=public-read in the DSN (or acl=private&qs_auth=true for private media with signed URLs)",
        "does not lead to the bucket",
        "answers the object's URL with other content",
        "this build's static files are not published: run 'python manage.py publish_static' before preflight",
        "the cache server refused the password",
        "run 'python manage.py createcachetable'",
        "refused the login (",
        "check the user and password in EMAIL_URL",
        "nothing sent",
        "not configured (DEFAULT_AMQP_BROKER_URL unset, no CELERY_BROKER_URL)",
        "not configured (SENTRY_DSN unset)",
        "set, get and delete of a probe key",
        "SELECT 1, no unapplied migrations",
    ]
    for phrase in phrases:
        assert phrase in page, phrase
        assert any(phrase in text for text in texts), phrase


def figures_module() -> Any:
    """benchmarks/figures.py, the one renderer of the figures the docs print."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("figures", ROOT / "benchmarks" / "figures.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_figures_block_is_its_stored_result_rendered():
    """Each `<!-- figures: NAME -->` block of performance.md and deployment.md is what
    benchmarks/figures.py renders from benchmarks/results/ (run it after `tox -e bench`)."""
    figures = figures_module()
    seen = set()
    for page in figures.PAGES:
        text = page.read_text()
        for name, body in figures.blocks(text).items():
            assert body == figures.RENDERERS[name](), f"{page.name}: block {name}"
            seen.add(name)
    assert seen == set(figures.RENDERERS)


MEASURED = re.compile(
    r"(?<![≤≥\d.,])(?<![≤≥] )(?<!at most )\d[\d,]*(?:\.\d+)?(?:\s?(?:ms|µs|MiB|req/s|×|%)|"
    r"\s(?:s|M instructions|instructions)\b)(?!\w)"
)


def test_no_figure_on_the_performance_pages_stands_outside_a_stored_result():
    """A measured figure (ms, µs, MiB, req/s, ×, %, s, instructions) on performance.md or
    deployment.md is in a figures block, rendered from its stored result; a target (≤ 50 ms,
    at most 5 ×) is not a measurement."""
    figures = figures_module()
    found = []
    for page in figures.PAGES:
        text = figures.BLOCK.sub("", page.read_text())
        found += [f"{page.name}: {m.group(0)}" for m in MEASURED.finditer(text)]
    assert found == []


def test_troubleshooting_quotes_the_messages_people_see():
    """Each "You see: `…`" of docs/troubleshooting.md is a message of this library's code or of
    Django's, as written there."""
    import ast

    import django

    page = (ROOT / "docs" / "troubleshooting.md").read_text()
    quoted = [
        q
        for line in re.findall(r"^You see: (.+)$", page, re.MULTILINE)
        for q in re.findall(r"`([^`]+)`", line)
        if not q.startswith(("divio_settings.", "DEBUG"))
    ]
    assert len(quoted) >= 7
    ours = [
        node.value
        for path in sorted((ROOT / "divio_settings").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    djangos = [
        path.read_text(errors="ignore") for path in Path(django.__file__).parent.rglob("*.py")
    ]
    for text in quoted:
        # env.invalid() words an error "NAME: expected …": the part after it is the code's.
        text = re.sub(r"^[A-Z_]+: expected ", "", text)
        assert any(text in value for value in ours) or any(text in s for s in djangos), text
    # Every check the page names exists.
    for check in re.findall(r"divio_settings\.[EW]\d{3}", page):
        assert f"## `{check}`" in (ROOT / "docs" / "reference" / "checks.md").read_text()


def test_the_front_page_picture_is_what_its_script_draws():
    """docs/_static/environments.svg is docs/diagram.py's output, whose variables are the
    registry's; the front page shows it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("diagram", ROOT / "docs" / "diagram.py")
    assert spec
    assert spec.loader
    diagram = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(diagram)
    assert diagram.OUTPUT.read_text() == diagram.svg()
    assert "(_static/environments.svg)" in (ROOT / "docs" / "index.md").read_text()


def test_the_front_page_includes_the_readme_s_install_and_variable_tables():
    """The front page's install, extras and variable tables are the README's (one text, tested
    above against pyproject.toml and the registry), included between its markers."""
    readme = (ROOT / "README.md").read_text()
    index = (ROOT / "docs" / "index.md").read_text()
    for marker in re.findall(r'^:start-after: "(<!-- front page: [^>]+-->)"$', index, re.M):
        assert marker in readme
        assert readme.split(marker, 1)[1].count("<!-- /front page -->") >= 1
    assert len(re.findall(r"^:start-after:", index, re.M)) == 2
