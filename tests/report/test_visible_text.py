"""JSON output made visible: the whole-line fast path of ``json_safe`` writes exactly what the
character-by-character rule writes, for text with and without hidden characters."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from bias_ledger.render.visible_text import json_safe


def _per_character(text: str) -> str:
    return "".join(ch if ch.isprintable() or ch in " \n" else f"\\u{ord(ch):04x}" for ch in text)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_json_safe_equals_the_per_character_rule(text: str) -> None:
    assert json_safe(text) == _per_character(text)


def test_hidden_characters_in_indented_json_become_escapes() -> None:
    document = json.dumps({"group": "a\u202eb\x85c", "n": 1}, indent=2, ensure_ascii=False)
    safe = json_safe(document)
    assert "\u202e" not in safe and "\x85" not in safe
    assert json.loads(safe) == {"group": "a\u202eb\x85c", "n": 1}


def test_plain_indented_json_is_returned_unchanged() -> None:
    document = json.dumps({"group": "été", "rows": [1, 2]}, indent=2, ensure_ascii=False)
    assert json_safe(document) is document
