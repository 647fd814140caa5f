"""The I/O edge: the drivers that perform flows, the httpx2 and aiohttp pools, sockets, carried deadlines."""
