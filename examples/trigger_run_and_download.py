"""Start a run of a file agent and save the file it streams (the seed's triggerRunAndDownload)."""

from cxpa_sdk import trigger_run_and_download

with trigger_run_and_download(agent_id=4, input={"topic": "Q3 financial summary"}) as download:
    path = download.save(".")  # complete or absent: temp file, byte count checked, atomic rename
print(f"run {download.run_id} saved {path} ({download.content_type}, {path.stat().st_size} bytes)")
