"""Error pages in the reader's language."""
