"""The string catalogues (frontend/i18n/{en,es}.json): the same keys, no empty strings, the same
{placeholders}, and every key the page uses (t('...') in frontend JS, data-i18n* in HTML) present."""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
LANGUAGES = ("en", "es")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# A translation call: t('key'), tr('key') (an alias), tOr('key', fallback); ternaries inside count.
CALL = re.compile(r"(?<![\w.$])(?:t|tr|tOr)\(")
LITERAL = re.compile(r"""'([^'\n]*)'|"([^"\n]*)"|`([^`\n]*)`""")
KEY = re.compile(r"^[A-Za-z][\w-]*(\.[\w-]+)+$")
HTML_ATTR = re.compile(r"""data-i18n(?:-title|-placeholder|-aria-label)?\s*=\s*["']([^"']+)["']""")
JS_ATTR = re.compile(r"""(?:dataset\.i18n\w*\s*=\s*|setAttribute\(\s*['"]data-i18n[\w-]*['"]\s*,\s*)['"]([^'"]+)['"]""")


def flatten(node: object, prefix: str = "") -> Iterator[tuple[str, object]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from flatten(value, f"{prefix}.{key}" if prefix else key)
    else:
        yield prefix, node


@pytest.fixture(scope="module")
def catalogues() -> dict[str, dict[str, object]]:
    return {
        lang: dict(flatten(json.loads((FRONTEND / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))))
        for lang in LANGUAGES
    }


def call_argument(source: str, start: int) -> str:
    """The first argument of a call whose '(' ends at `start`: up to a top-level ',' or ')'."""
    depth = 0
    i = start
    quote = ""
    while i < len(source):
        ch = source[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif ch == "," and depth == 0:
            break
        i += 1
    return source[start:i]


def keys_used_in_js(source: str) -> set[str]:
    keys = set(JS_ATTR.findall(source))
    for match in CALL.finditer(source):
        for groups in LITERAL.findall(call_argument(source, match.end())):
            text = next(g for g in groups if g) if any(groups) else ""
            if "${" not in text and KEY.match(text):
                keys.add(text)
    return keys


def used_keys() -> dict[str, set[str]]:
    """Key -> the files that use it."""
    used: dict[str, set[str]] = {}
    for path in sorted(FRONTEND.rglob("*")):
        if path.suffix == ".js":
            found = keys_used_in_js(path.read_text(encoding="utf-8"))
        elif path.suffix == ".html":
            found = set(HTML_ATTR.findall(path.read_text(encoding="utf-8")))
        else:
            continue
        for key in found:
            used.setdefault(key, set()).add(str(path.relative_to(FRONTEND)))
    return used


def test_both_catalogues_have_the_same_keys(catalogues: dict[str, dict[str, object]]) -> None:
    en, es = set(catalogues["en"]), set(catalogues["es"])
    assert not en - es, f"missing in es.json: {sorted(en - es)}"
    assert not es - en, f"missing in en.json: {sorted(es - en)}"


def test_every_string_is_a_non_empty_string(catalogues: dict[str, dict[str, object]]) -> None:
    for lang, table in catalogues.items():
        bad = [key for key, value in table.items() if key and (not isinstance(value, str) or not value.strip())]
        assert not bad, f"{lang}.json: empty or not a string: {bad}"


def test_translations_keep_the_placeholders(catalogues: dict[str, dict[str, object]]) -> None:
    en, es = catalogues["en"], catalogues["es"]
    differ = {
        key: (sorted(set(PLACEHOLDER.findall(str(en[key])))), sorted(set(PLACEHOLDER.findall(str(es[key])))))
        for key in set(en) & set(es)
        if set(PLACEHOLDER.findall(str(en[key]))) != set(PLACEHOLDER.findall(str(es[key])))
    }
    assert not differ, f"placeholders differ (en, es): {differ}"


def test_every_key_the_page_uses_is_in_both_catalogues(catalogues: dict[str, dict[str, object]]) -> None:
    used = used_keys()
    assert len(used) > 100, "the scan found too few keys: is the pattern still right?"
    for lang, table in catalogues.items():
        missing = {key: sorted(files) for key, files in used.items() if key not in table}
        assert not missing, f"{lang}.json lacks keys used by the page: {missing}"


def test_the_scanner_finds_calls_ternaries_and_attributes() -> None:
    source = """t('app.a'); tr(x ? 'app.b' : "app.c", { n }); tOr(`catalog.d.${name}`, label);
    el.dataset.i18n = 'room.e'; el.setAttribute('data-i18n-title', 'lesson.f'); format('no.key')"""
    assert keys_used_in_js(source) == {"app.a", "app.b", "app.c", "room.e", "lesson.f"}
