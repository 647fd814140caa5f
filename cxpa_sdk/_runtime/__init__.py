"""The runtime side: the agent clients a runtime reports with."""
