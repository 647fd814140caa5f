from enum import StrEnum


class RunEventType(StrEnum):
    ENDED = "ended"
    OUTPUT = "output"
    STATUS = "status"
    WAITING = "waiting"

    def __str__(self) -> str:
        return str(self.value)
