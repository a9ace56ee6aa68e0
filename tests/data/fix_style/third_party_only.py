import requests
from requests.adapters import HTTPAdapter

ADAPTER = HTTPAdapter()


def ping(url: str) -> None:
    try:
        requests.head(url, timeout=5)
    except Exception:
        pass
