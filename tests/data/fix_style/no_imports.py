def remember(cache: dict[str, int], text: str) -> None:
    try:
        cache[text] = int(text)
    except Exception:
        pass
