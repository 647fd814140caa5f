from enum import StrEnum


class AgentOutputKind(StrEnum):
    FILE_DOWNLOAD = "file_download"
    JSON = "json"

    def __str__(self) -> str:
        return str(self.value)
