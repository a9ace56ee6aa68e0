import requests
from requests.adapters import HTTPAdapter

ADAPTER = HTTPAdapter()


def fetch(url: str) -> bytes | None:
    try:
        return requests.get(url, timeout=5).content
    except Exception:
        pass
    return None
