import contextlib

try:
    import ujson as json
except ImportError:
    import json


def store(cache: dict[str, object], text: str) -> None:
    with contextlib.suppress(ValueError):
        cache["json"] = json.loads(text)
    try:
        cache["float"] = float(text)
    except Exception:
        pass
