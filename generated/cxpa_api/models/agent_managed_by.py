from enum import StrEnum


class AgentManagedBy(StrEnum):
    PLATFORM = "platform"
    STANDALONE = "standalone"

    def __str__(self) -> str:
        return str(self.value)
