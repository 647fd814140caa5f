"""Entry point: `python -m benchmarks [--quick] [--rows 2,3] [--output PATH]`."""

from benchmarks._cli import main

raise SystemExit(main())
