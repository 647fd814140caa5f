from enum import StrEnum


class ResumePayloadType(StrEnum):
    RESUMED = "resumed"

    def __str__(self) -> str:
        return str(self.value)
