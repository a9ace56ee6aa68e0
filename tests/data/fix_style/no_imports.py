def parse(text: str) -> int:
    try:
        return int(text)
    except Exception:
        pass
    return 0
