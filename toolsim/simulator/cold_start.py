"""Cold start: a plausible reply shape for an API whose documentation gives none.

Half the APIs of StableToolBench's shared groups document no usable response
template: none at all, an empty object, or ``{"message": "str"}`` (the shape of
the reply to a *failed* call). Filling such a template answers a valid call with
``{}`` or a lone message, which says nothing and leaves the world nothing to keep
consistent. From the API's name, description and parameters this module infers
what kind of API it is and a template of that kind:

* **details** (a required identifier parameter, or a name like *get ... details*):
  an object about the asked thing: its ``id`` (the argument), a name, a
  description, a link, and the call's other arguments;
* **search / list** (a query-like parameter, or a name like *search*, *list*,
  *find*, *autocomplete*): the query, a total, and a list of items (each with an
  ``id``, a name matching the query, a description, a link) under a key named for
  the API's noun (``recipes``), or ``results``;
* **action** (anything else: convert, verify, send, calculate, ...): a success
  status, a one-sentence message and the call's arguments.

The templates use StableToolBench's type-name leaves, so the schema simulator fills
them like any documented template (echoing arguments into fields of the same name),
and an LLM simulator can be constrained to them.
"""

from __future__ import annotations

import re
from typing import Any

from toolsim.catalog.models import ApiSpec
from toolsim.simulator.template_filler import MAX_TEXT, norm, synthesize

_MESSAGE_ONLY = frozenset(
    {"message", "msg", "error", "errors", "status", "success", "detail", "code", "statuscode"}
)
_ID_PARAM = re.compile(r"^(id|uid|guid|uuid|_id)$|[_-]id$|[a-z0-9]I[dD]$|^is_id$")
_QUERY_PARAM = re.compile(
    r"^(q|query|keyword|keywords|search|searchterm|term|text|prefix|input|name|title)$"
)
_SEARCH_WORDS = re.compile(
    r"\b(search|find|list|lookup|autocomplete|autocompletion|suggest|suggestions|browse|"
    r"query|all|top|trending|popular|latest|recent|similar|related)\b"
)
_DETAIL_WORDS = re.compile(r"\b(details?|info|information|profile|get|by id|lookup)\b")
_NOISE = re.compile(
    r"\b(get|fetch|search|find|list|lookup|query|details?|info|information|profile|by|all|"
    r"the|for|of|api|v\d+|top|latest|recent|random|similar|related|autocomplete|id|ids)\b"
)


def usable_template(template: Any) -> bool:
    """Whether a documented template describes data: not missing, not empty, not only a
    message or status (the shape of a failed call's reply)."""
    if template is None or template in ("", {}, []):
        return False
    if isinstance(template, dict):
        keys = {norm(str(key)) for key in template if key != "_list_length"}
        return bool(keys) and not keys <= _MESSAGE_ONLY
    return True


def _words(api: ApiSpec) -> str:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", api.name)
    return re.sub(r"[^a-z0-9]+", " ", spaced.lower()).strip()


def _noun(api: ApiSpec) -> str:
    """The thing an API is about, plural (``recipes``), from its name; "" if none."""
    words = _NOISE.sub(" ", _words(api)).split()
    if not words:
        return ""
    word = words[-1]
    if word.endswith("s") or not word.isalpha():
        return word
    return word[:-1] + "ies" if word.endswith("y") and word[-2:-1] not in "aeiou" else word + "s"


def api_kind(api: ApiSpec) -> str:
    """``details``, ``search`` or ``action`` (see the module docstring)."""
    names = [p.name for p in api.parameters]
    words = _words(api)
    if any(_QUERY_PARAM.match(norm(name)) for name in names) or _SEARCH_WORDS.search(words):
        if not (_DETAIL_WORDS.search(words) and _id_parameter(api)):
            return "search"
    if _id_parameter(api) or re.search(r"\b(details?|info|profile)\b", words):
        return "details"
    return "action"


def _id_parameter(api: ApiSpec) -> str | None:
    for param in api.required or api.parameters:
        if _ID_PARAM.search(param.name):
            return param.name
    return None


def query_parameter(api: ApiSpec) -> str | None:
    """The parameter a search API takes its query in, if any."""
    for param in api.parameters:
        if _QUERY_PARAM.match(norm(param.name)):
            return param.name
    return None


def infer_template(api: ApiSpec) -> dict[str, Any]:
    """A template for an API without a usable one (see the module docstring)."""
    echoed = {p.name: "str" for p in api.required}
    kind = api_kind(api)
    if kind == "details":
        return {"id": "str", "name": "str", "description": "str", "url": "str", **echoed}
    if kind == "search":
        item = {"id": "str", "name": "str", "description": "str", "url": "str"}
        return {
            **echoed,
            "total": "int",
            _noun(api) or "results": [{**item, "_list_length": 3}],
        }
    return {"status": "success", "message": "str", **echoed}


def response_template(api: ApiSpec) -> Any:
    """The API's documented template when usable, else the inferred one."""
    template = api.template_response
    return template if usable_template(template) else infer_template(api)


def cold_reply(api: ApiSpec, arguments: dict[str, Any], key: str) -> Any:
    """A seeded reply from the inferred template, made about the call: a details reply's
    ``id`` is the asked identifier, a search's items are named after the query."""
    data = synthesize(infer_template(api), arguments, key)
    kind = api_kind(api)
    if kind == "details" and (param := _id_parameter(api)) and param in arguments:
        data["id"] = arguments[param]
    elif kind == "search" and (param := query_parameter(api)) and arguments.get(param):
        query = str(arguments[param]).strip()
        for value in data.values():
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, dict) and isinstance(item.get("name"), str):
                        item["name"] = f"{query} {item['name']}".strip()[:MAX_TEXT]
    return data
