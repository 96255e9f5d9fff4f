"""Simulations for researchers: `tohyo simulate election|load|scaling|attacks` and `tohyo demo`.

Modules: `world` (an election driven in memory under the board's own policy), `audit` (the
independent passes over a record), `election`, `scaling`, `attacks`, `load` (the experiments),
`executors` (local process pool or Dask cluster), `report` (JSON and plots), `cli`. Nothing is
imported here, so `tohyo demo` does not load what the other commands need.
"""
