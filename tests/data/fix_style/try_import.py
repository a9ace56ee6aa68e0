import contextlib

try:
    import ujson as json
except ImportError:
    import json


def parse(text: str) -> object:
    with contextlib.suppress(ValueError):
        return json.loads(text)
    try:
        return float(text)
    except Exception:
        pass
    return None
