"""The one Jinja2 environment factory, for the digest and the alerts.

The bundled templates live in the repo's top-level `templates/` folder and ship in the wheel as the
package `tracker.templates` (pyproject.toml maps one to the other), so they are loaded through the
package system, never through a path relative to this file: that is what makes a normal
`pip install .` work, not only an editable one. An operator's `[digest] templates` folder is searched
first, so one file can be overridden without copying the rest.

Environments are cached per (purpose, override folder): compiling the templates for every message
cost 6 ms each, and Jinja2 keeps compiled templates per environment (re-reading a file whose mtime
changed, so an edited override still shows). Between processes the compiled templates are kept in
Jinja's bytecode cache (`_bytecode_cache`): compiling them was half a second of every `tracker run`.

Every environment has the boundary filters of `tracker.safetext`: `url` (a link from data, or ""
when it is not http(s): every `href` and every link in a message goes through it) and `line` (one
line: Atom titles). In the digest (HTML and Atom) every `{{ value }}` also loses the characters
XML forbids (a NUL in a scraped name would make changes.atom unreadable).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from tracker.billnumbers import ordinal
from tracker.safetext import one_line, web_url, xml_text
from tracker.words import day_words, document_noun

PACKAGE = "tracker.templates"
# A source checkout whose editable install predates the package mapping, or run from PYTHONPATH:
# the same files, found where the repo keeps them.
SOURCE_TREE = Path(__file__).resolve().parent.parent / "templates"

log = logging.getLogger(__name__)

_cache: dict[tuple[str, str | None], jinja2.Environment] = {}
_lock = threading.Lock()


def bundled_loader() -> jinja2.BaseLoader:
    """The templates shipped with tracker, wherever the install put them."""
    try:
        return jinja2.PackageLoader(PACKAGE, ".")
    except (ModuleNotFoundError, ValueError):
        if (SOURCE_TREE / "digest" / "index.html.j2").is_file():
            return jinja2.FileSystemLoader(str(SOURCE_TREE))
        raise


def environment(
    purpose: str,
    override: str | Path | None,
    *,
    html: bool,
    filters: Mapping[str, Callable[..., Any]] | None = None,
) -> jinja2.Environment:
    """The environment for `purpose` ("digest", "alerts") with `override` searched first.

    `html` turns on autoescape (the digest: everything scraped is escaped); alert bodies are plain
    text or Markdown and escape what they need with their own filters. `filters` are the caller's
    own filters, set on every call: a filter may hold the caller's config (the digest's time zone),
    and one process may render for several configs (the demo, the tests).
    """
    folder = str(override) if override else None
    key = (purpose, folder)
    env = _cache.get(key)
    if env is not None:
        env.filters.update(filters or {})
        return env
    with _lock:
        env = _cache.get(key)
        if env is None:
            env = _build(folder, html, filters or {})
            env.bytecode_cache = _bytecode_cache(purpose, html)
            _cache[key] = env
    return env


def _build(folder: str | None, html: bool, filters: Mapping[str, Callable[..., Any]]) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(folder)] if folder else []
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([*loaders, bundled_loader()]),
        autoescape=jinja2.select_autoescape(["html", "xml", "atom", "j2"], default=True) if html else False,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.ChainableUndefined,  # scraped records may lack a field: show nothing
        finalize=_xml_safe if html else None,
    )
    env.filters["ordinal"] = ordinal
    env.filters["url"] = lambda value: web_url(value) or ""
    env.filters["line"] = one_line
    env.filters["document_noun"] = document_noun  # "Agenda packet": how alerts and the digest name a document
    env.filters["day"] = day_words  # "Thu Feb 18, 2021": a day as people read it, in alerts and the digest
    env.filters.update(filters)
    return env


class _KeptTemplates(jinja2.FileSystemBytecodeCache):
    """Jinja's own cache of compiled templates, in its folder of the user's temp directory (made
    0700, its owner checked), each file checked against its template's source and Jinja's and
    Python's versions. One that cannot be read or written (a full disk, a read-only /tmp) costs
    only the compiling, never a digest or an alert."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except OSError as exc:
            log.debug("template cache not read: %s", exc)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError as exc:
            log.debug("template cache not written: %s", exc)


def _bytecode_cache(purpose: str, html: bool) -> jinja2.BytecodeCache | None:
    """The cache for one kind of environment: a compiled template depends on the environment's
    settings (autoescape, finalize), not only on its source, so each kind keeps its own files."""
    try:
        return _KeptTemplates(pattern=f"__tracker_{purpose}_{'html' if html else 'text'}_%s.cache")
    except (OSError, RuntimeError) as exc:  # no safe temp folder of our own: compile every time
        log.debug("no template cache: %s", exc)
        return None


def _xml_safe(value: Any) -> Any:
    """Every value an HTML or Atom template prints, without the characters XML forbids (escaping
    still follows: a `Markup` value stays markup)."""
    if not isinstance(value, str) or (value.isascii() and value.isprintable()):
        return value  # printable ASCII has nothing XML forbids: the common case, checked in C
    cleaned = xml_text(str(value))
    if isinstance(value, Markup):
        return value if cleaned == value else Markup(cleaned)
    return cleaned
