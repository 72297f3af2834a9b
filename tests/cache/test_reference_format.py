import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from toolsim.cache import reference_format
from toolsim.cache.disk import DiskBackend
from toolsim.cache.entry import CacheEntry, Reply, Source
from toolsim.cache.keys import cache_key, normalize_arguments
from toolsim.cache.memory import MemoryBackend
from toolsim.cache.reference_format import export_reference, import_reference, parse_key
from toolsim.catalog.catalog import Catalog
from toolsim.catalog.models import ApiSpec, Parameter, ParamType, ToolSpec
from toolsim.errors import UserError

QUOTED = {"q": 'it\'s "quoted"'}
NESTED = {"filters": {"tags": ["a", "b"], "exact": True}, "limit": None, "page": 2}

# (category folder, tool folder, api) -> {key: reply}; only well-formed files.
VALID: dict[tuple[str, str, str], dict[str, Any]] = {
    ("Data", "keyword_analysis_for_Data", "popularsitesforquery"): {
        "{'q': 'birthday', 'page': 1}": {"error": "", "response": {"sites": ["a.com"]}},
        # Same content as the key above, other order: a duplicate, the first one wins.
        "{'page': 1, 'q': 'birthday'}": {"error": "", "response": "second"},
        repr(NESTED): {"error": "", "response": [{"deep": {"x": 1}}]},
        repr(QUOTED): {"error": "", "response": "quotes ok"},
        "": {"error": None, "response": "no arguments"},
        "{'q': 'x'}": "not an object",
        "['not', 'a', 'dict']": {"error": "", "response": 1},
        "__import__('os').system('echo pwned')": {"error": "", "response": 2},
        "{'q': ": {"error": "", "response": 3},
    },
    ("Data", "weather_now_for_Data", "current"): {
        "{'city': 'Paris', 'metric': False}": {"error": "", "response": "12C"},
    },
    ("News_Media", "daily_news_for_News_Media", "get_headlines"): {
        "{}": {"error": "Rate limit exceeded", "response": ""},
        "{'country': 'fr'}": {"error": "", "response": "Bonjour, élan"},
    },
}
BAD_KEYS = {"{'q': 'x'}", "['not', 'a', 'dict']", "__import__('os').system('echo pwned')", "{'q': "}
DUPLICATE = "{'page': 1, 'q': 'birthday'}"


def expected_files() -> dict[tuple[str, str, str], dict[str, Any]]:
    """The original files as an export must reproduce them.

    Bad and duplicate keys are dropped; the empty key comes back as its equivalent "{}".
    """
    result = {}
    for ref, content in VALID.items():
        kept = {k or "{}": v for k, v in content.items() if k not in BAD_KEYS and k != DUPLICATE}
        result[ref] = {
            k: {"error": v["error"] or "", "response": v["response"]} for k, v in kept.items()
        }
    return result


def write_reference(root: Path) -> Path:
    for (category, tool, api), content in VALID.items():
        folder = root / category / tool
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{api}.json").write_text(json.dumps(content), encoding="utf-8")
    (root / "News_Media" / "daily_news_for_News_Media" / "broken.json").write_text("{not json")
    odd = root / "Data" / "no_suffix_here"
    odd.mkdir()
    (odd / "x.json").write_text("{}")
    outside = root.parent / "outside.json"
    outside.write_text(json.dumps({"{'a': 1}": {"error": "", "response": "leak"}}))
    (root / "Data" / "weather_now_for_Data" / "leak.json").symlink_to(outside)
    return root


def read_export(root: Path) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {
        (p.parent.parent.name, p.parent.name, p.stem): json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(root.glob("*/*/*.json"))
    }


def snapshot(backend) -> dict[str, tuple]:
    return {
        key: (e.category, e.tool, e.api, e.arguments, e.reply.model_dump(), e.origin_key, e.source)
        for key, e in backend.items()
    }


@pytest.fixture(params=["memory", "disk"])
def backend(request, tmp_path) -> Iterator:
    store = MemoryBackend() if request.param == "memory" else DiskBackend(tmp_path / "c")
    yield store
    store.close()


@pytest.fixture
def reference(tmp_path) -> Path:
    return write_reference(tmp_path / "tool_response_cache")


def test_import_counts_and_problems(backend, reference):
    calls: list[int] = []
    report = import_reference(backend, reference, progress=calls.append)
    assert report.files == 6
    assert report.entries == 7 == len(backend)
    assert report.skipped == 4
    assert report.skipped_files == 3  # broken JSON, no _for_ suffix, symlink outside root
    assert report.duplicates == 1
    assert report.with_error == 1
    assert report.unknown_apis == 0
    text = "\n".join(report.problems)
    assert "broken.json: unreadable" in text
    assert "leak.json: links outside" in text
    assert "no_suffix_here" in text
    assert "reply is not an object" in text
    assert "not a dict" in text and "not a Python literal" in text
    assert "repeats an earlier key" in text
    assert len(calls) == 6 and sum(calls) == 9 + 1 + 2


def test_import_keys_match_live_lookups(backend, reference):
    import_reference(backend, reference)
    api = ApiSpec(category="Data", tool_name="keyword analysis", name="popularSitesForQuery")
    for arguments in ({"page": 1, "q": "birthday"}, NESTED, QUOTED, {}):
        entry = backend.get(cache_key(api, normalize_arguments(api, arguments)))
        assert entry is not None, arguments
        assert entry.source is Source.IMPORTED
        assert entry.arguments == normalize_arguments(api, arguments)
    first = backend.get(cache_key(api, {"page": 1, "q": "birthday"}))
    assert first.reply.response == {"sites": ["a.com"]}  # the first of the duplicates
    assert first.origin_key == "{'q': 'birthday', 'page': 1}"
    news = ApiSpec(category="News, Media", tool_name="Daily News", name="get headlines")
    failed = backend.get(cache_key(news, {}))
    assert failed.reply == Reply(error="Rate limit exceeded", response="")
    assert backend.keys_for(("Data", "weather_now", "current"))


def test_import_never_puts_one_by_one(reference, monkeypatch):
    class Batched(MemoryBackend):
        batches: list[int] = []

        def put(self, key, entry):
            raise AssertionError("import must use put_many")

        def put_many(self, items):
            items = list(items)
            self.batches.append(len(items))
            return super().put_many(items)

    monkeypatch.setattr(reference_format, "BATCH_SIZE", 2)
    store = Batched()
    report = import_reference(store, reference)
    assert sum(store.batches) == report.entries and len(store.batches) >= 2


def test_round_trip(backend, reference, tmp_path):
    import_reference(backend, reference)
    out = tmp_path / "exported"
    calls: list[int] = []
    assert export_reference(backend, out, progress=calls.append) == 7
    assert read_export(out) == expected_files()
    assert sum(calls) == 7 and len(calls) == 3
    assert not list(out.rglob("*.tmp"))

    again = MemoryBackend()
    report = import_reference(again, out)
    assert (report.entries, report.skipped, report.duplicates, report.skipped_files) == (7, 0, 0, 0)
    assert snapshot(again) == {
        key: (*rest, origin or "{}", source)
        for key, (*rest, origin, source) in snapshot(backend).items()
    }


def test_export_without_origin_key_uses_python_repr(tmp_path):
    store = MemoryBackend()
    api = ApiSpec(category="Data", tool_name="t", name="a")
    arguments = normalize_arguments(api, {"b": True, "a": None})
    store.put(
        cache_key(api, arguments),
        CacheEntry(
            category="Data",
            tool="t",
            api="a",
            arguments=arguments,
            reply=Reply(response="r"),
            source=Source.SIMULATED,
        ),
    )
    assert export_reference(store, tmp_path / "out") == 1
    written = json.loads((tmp_path / "out" / "Data" / "t_for_Data" / "a.json").read_text())
    assert written == {"{'a': None, 'b': True}": {"error": "", "response": "r"}}


def number_catalog() -> Catalog:
    api = ApiSpec(
        category="Data",
        tool_name="Num Tool",
        name="Square",
        parameters=(Parameter("n", ParamType.NUMBER, required=True),),
    )
    return Catalog([ToolSpec(category="Data", name="Num Tool", apis=(api,))])


def write_number_reference(root: Path) -> Path:
    folder = root / "Data" / "num_tool_for_Data"
    folder.mkdir(parents=True)
    (folder / "square.json").write_text(
        json.dumps(
            {
                "{'n': '5'}": {"error": "", "response": "25 (from a string)"},
                "{'n': 5}": {"error": "", "response": "25"},
            }
        )
    )
    unknown = root / "Data" / "other_for_Data"
    unknown.mkdir()
    (unknown / "thing.json").write_text(json.dumps({"{'n': '5'}": {"error": "", "response": 1}}))
    return root


def test_catalog_types_merge_keys_first_wins(tmp_path):
    catalog = number_catalog()
    root = write_number_reference(tmp_path / "ref")
    store = MemoryBackend()
    report = import_reference(store, root, catalog=catalog)
    assert (report.entries, report.duplicates, report.unknown_apis) == (2, 1, 1)
    assert "square.json: key \"{'n': 5}\" repeats an earlier key" in report.problems[0]
    api = catalog.get(("Data", "num_tool", "square"))
    entry = store.get(cache_key(api, normalize_arguments(api, {"n": "5"})))
    assert entry is not None and entry.arguments == {"n": 5}
    assert entry.reply.response == "25 (from a string)"
    assert entry.origin_key == "{'n': '5'}"
    # Without the catalog nothing says n is a number: the two keys stay apart.
    assert import_reference(MemoryBackend(), root).entries == 3


@pytest.mark.parametrize(
    "field,value",
    [
        ("tool", ".."),
        ("tool", "."),
        ("category", ""),
        ("api", "a/b"),
        ("api", "a\\b"),
        ("category", "x\x00y"),
    ],
)
def test_export_rejects_unsafe_names(tmp_path, field, value):
    store = MemoryBackend()
    names = {"category": "Data", "tool": "t", "api": "a", field: value}
    store.put("k1", CacheEntry(**names, arguments={}, reply=Reply(), source=Source.SIMULATED))
    out = tmp_path / "out"
    with pytest.raises(UserError):
        export_reference(store, out)
    assert not out.exists() or not any(out.rglob("*"))


def test_parse_key_is_safe_and_strict():
    assert parse_key("") == {} and parse_key("{}") == {}
    assert parse_key("{'a': (1, 2), 'b': None}") == {"a": [1, 2], "b": None}
    for bad in ("{1: 'x'}", "{'a': {1, 2}}", "{'a': 1e999}", "{'a': b'x'}", "open('f')"):
        with pytest.raises(ValueError):
            parse_key(bad)


def test_import_missing_root_is_a_user_error(tmp_path):
    with pytest.raises(UserError):
        import_reference(MemoryBackend(), tmp_path / "nope")
