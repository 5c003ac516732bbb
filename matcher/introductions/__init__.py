"""Introduction requests: an enterprise asks the chamber to put it in touch with a suggested partner."""
