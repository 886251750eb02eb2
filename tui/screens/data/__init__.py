"""What the screens read: small SQL queries returning frozen rows, with no Textual in them.

Each function takes an open session and returns plain records, so a thread worker can run it
with its own session and hand the result to the UI thread.
"""
