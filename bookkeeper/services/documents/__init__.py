"""What a period leaves on paper: documents issued and numbered, rendered and emailed off the
event path, listed for the account's people; statements and pro-formas."""
