"""Fault injection on loopback (`make faults`): worker SIGKILL, PostgreSQL restart and Redis down
under load, against private PostgreSQL and Redis servers; see run.py."""
