"""Public pages: what anyone may see, never a contact detail."""
