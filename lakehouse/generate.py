"""placeholder: replaced by the simulator (being written)."""


def register(subparsers) -> None:
    pass
