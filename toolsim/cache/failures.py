"""Replies that report a failure to reach the API rather than the API's answer.

A relay or a recorded trajectory may hold "rate limit exceeded", "not
subscribed", "503 Service Unavailable" and the like: the state of the network
that day, not the API's behaviour. Such a reply is never stored as the world's
answer and never adapted as an exemplar.
"""

from __future__ import annotations

import re

from toolsim.cache.entry import Reply

_FAILURE = re.compile(
    r"rate.?limit|too many requests|quota|limit (exceeded|reached)|unauthori[sz]ed|forbidden|"
    r"not subscribed|invalid (api|access) key|api key|blocked|internal server error|"
    r"bad gateway|service unavailable|gateway time-?out|timed? ?out",
    re.IGNORECASE,
)
# A bare status code means failure in an error message, but may be data in a response.
_FAILURE_CODE = re.compile(r"\b(401|403|429|50[0234])\b")


def is_real_answer(status_code: int, reply: Reply) -> bool:
    """Whether a reply is the API's answer rather than a transport failure.

    Relays wrap failures as short messages; a long response body is data, even
    when it happens to contain a word like "exceeded".
    """
    if status_code != 200:
        return False
    if reply.error and (_FAILURE.search(reply.error) or _FAILURE_CODE.search(reply.error)):
        return False
    short_text = isinstance(reply.response, str) and len(reply.response) < 300
    return not (short_text and _FAILURE.search(reply.response))
