"""placeholder: replaced below."""


def register(subparsers) -> None:
    pass
