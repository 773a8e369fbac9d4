"""`make fuzz`: schemathesis against the API's own schema on a live server; see run.py."""
