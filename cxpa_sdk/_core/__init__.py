"""The sans-I/O core: every call as a flow of steps (requests to send, bodies to read, sleeps).

It decides what to send and what each answer means; the drivers in `_http` perform the steps.
"""
